"""Calls from any PBX: live events (screen-pop), the final summary, recordings.

Adapters (Mango Office, the generic webhook) translate their payloads into `CallEventIn`,
`CallSummaryIn` and `RecordingIn`; everything a call means for the business happens here:
the call in the client's history, the card that pops up for the employee, and, for a missed
call nobody returned, a lead and a "call back" task.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Call, CallPhase, CallStatus, Channel, Direction, Lead, LeadStatus, PhoneLine
from services import clients, inbound, notify, tasks
from services.calls.inputs import (
    DUPLICATE,
    CallEventIn,
    CallInput,
    CallOutcome,
    CallState,
    CallSummaryIn,
    Party,
    RecordingIn,
)
from services.calls.rows import (
    CallRow,
    advance,
    by_entry,
    direction_of,
    new_row,
    save,
    upsert,
    whose_phone,
)
from services.context import Company
from services.errors import NotFound
from services.leads import intake
from services.leads.inputs import LeadIn

__all__ = [
    "CallEventIn",
    "CallOutcome",
    "CallState",
    "CallSummaryIn",
    "Party",
    "RecordingIn",
    "attach_recording",
    "record",
    "record_event",
    "record_many",
    "record_summary",
]


async def record_event(
    session: AsyncSession, event: CallEventIn, *, company: Company
) -> CallOutcome:
    """A live event: keep the call's phase, pop the card up for whoever's phone rings."""
    key = f"{event.entry_id}:{event.leg_id}:{event.seq}"
    if not await inbound.record(
        session, source=f"{event.provider}:call", external_id=key, clock=company.clock
    ):
        return DUPLICATE
    direction = direction_of(event.caller, event.callee)
    with session.no_autoflush:
        call = await upsert(
            session,
            event.provider,
            event.entry_id,
            direction,
            event.caller,
            event.callee,
            event.line_number,
            event.at,
            company,
        )
        if not advance(call, event):
            return CallOutcome(call.id)  # an older event of this leg, arriving late
        ours = event.callee if direction is Direction.IN else event.caller
        employee = await whose_phone(session, ours, call.line_id)
    if employee is not None and call.employee_id is None and direction is not Direction.IN:
        call.employee_id = employee.id
    if event.state is CallState.CONNECTED and employee is not None:
        call.employee_id, call.status = employee.id, CallStatus.ANSWERED
        call.answered_at = call.answered_at or event.at
    await save(session, call, company.clock.now())
    now = company.clock.now()
    if event.state is CallState.APPEARED and employee is not None and call.summarized_at is None:
        await notify.call_ringing(
            session, call_id=call.id, employee=employee, now=now, default_locale=company.locale
        )
    await notify.call_changed(session, call_id=call.id, now=now)
    return CallOutcome(call.id)


async def record_summary(
    session: AsyncSession, summary: CallSummaryIn, *, company: Company
) -> CallOutcome:
    """The PBX's final word on a call: authoritative, and may come before or without events."""
    if not await inbound.record(
        session,
        source=f"{summary.provider}:summary",
        external_id=summary.entry_id,
        clock=company.clock,
    ):
        return DUPLICATE
    call = await upsert(
        session,
        summary.provider,
        summary.entry_id,
        summary.direction,
        summary.caller,
        summary.callee,
        summary.line_number,
        summary.started_at,
        company,
    )
    ours = summary.callee if summary.direction is Direction.IN else summary.caller
    employee = await whose_phone(session, ours, call.line_id)
    call.status = CallStatus.ANSWERED if summary.answered else CallStatus.MISSED
    call.phase, call.summarized_at = CallPhase.ENDED, company.clock.now()
    call.started_at, call.ended_at = summary.started_at, summary.ended_at
    call.answered_at = summary.answered_at if summary.answered else None
    call.talk_seconds = summary.talk_seconds if summary.answered else 0
    call.disconnect_reason = summary.disconnect_reason
    call.recording_url = summary.recording_url or call.recording_url
    if employee is not None:
        call.employee_id = employee.id
    if call.client_number and call.client_id is None and call.direction is not Direction.INTERNAL:
        found = await clients.resolve_or_create(
            session, [(Channel.PHONE, call.client_number)], name=None, now=company.clock.now()
        )
        call.client_id = found.id
    await save(session, call, company.clock.now())
    outcome = CallOutcome(call.id)
    if call.direction is Direction.IN and not summary.answered:
        outcome = await _missed(session, call, company)
        await save(session, call, company.clock.now())  # the lead it opened
    elif summary.answered and call.client_id is not None:
        await tasks.close_call_backs(
            session,
            client_id=call.client_id,
            after=call.started_at,
            call_id=call.id,
            now=company.clock.now(),
        )
    await notify.call_changed(session, call_id=call.id, now=company.clock.now())
    return outcome


async def attach_recording(
    session: AsyncSession, recording: RecordingIn, *, company: Company
) -> CallOutcome:
    call = await by_entry(session, recording.provider, recording.entry_id)
    if call is None:  # the recording came first; the events will fill the rest in
        call = new_row(recording.provider, recording.entry_id, Direction.IN, None)
    call.recording_url = recording.recording_url or call.recording_url
    call.recording_id = recording.recording_id or call.recording_id
    await save(session, call, company.clock.now())
    await notify.call_changed(session, call_id=call.id, now=company.clock.now())
    return CallOutcome(call.id)


async def _missed(session: AsyncSession, call: CallRow, company: Company) -> CallOutcome:
    """A missed incoming call nobody has returned yet: a lead (unless one is open) and a
    call-back task due at once for the lead's assignee."""
    if call.client_id is None or await _returned_since(session, call):
        return CallOutcome(call.id)
    lead = await _open_lead(session, call.client_id)
    if lead is None:
        line = await session.get(PhoneLine, call.line_id) if call.line_id else None
        result = await intake.register_incoming(
            session,
            LeadIn(
                source=_lead_source(line),
                phone=call.client_number,
                line_number=call.line_number,
                extra={"missed_call": call.id},
            ),
            company=company,
        )
        lead = await session.get(Lead, result.lead_id)
    assert lead is not None
    call.lead_id = lead.id
    # The task is the lead's assignee's, like the lead: when nobody may have the lead now it
    # waits in the queue, and the task goes with it to whoever gets it (services.leads.queue).
    # The line's owner has seen the call ring and go unanswered on their own card.
    task = await tasks.open_call_back(
        session,
        client_id=call.client_id,
        call_id=call.id,
        lead_id=lead.id,
        assignee_id=lead.assignee_id,
        number=call.client_number,
        now=company.clock.now(),
        default_locale=company.locale,
    )
    return CallOutcome(call.id, lead_id=lead.id, task_id=task)


def _lead_source(line: PhoneLine | None) -> str:
    if line is None:
        return "call"
    return f"call:{line.source or line.name}"


async def _returned_since(session: AsyncSession, call: CallRow) -> bool:
    """An answered call, or any outgoing one, with this number after the missed call."""
    stmt = (
        sa.select(Call.id)
        .where(
            Call.client_number == call.client_number,
            Call.id != call.id,
            Call.started_at > call.started_at,
            sa.or_(Call.status == CallStatus.ANSWERED, Call.direction == Direction.OUT),
        )
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def _open_lead(session: AsyncSession, client_id: int) -> Lead | None:
    stmt = (
        sa.select(Lead)
        .where(Lead.client_id == client_id, Lead.status == LeadStatus.NEW)
        .order_by(Lead.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def record(session: AsyncSession, item: CallInput, *, company: Company) -> CallOutcome:
    """Any call input, to the operation it is for."""
    if isinstance(item, CallEventIn):
        return await record_event(session, item, company=company)
    if isinstance(item, CallSummaryIn):
        return await record_summary(session, item, company=company)
    return await attach_recording(session, item, company=company)


async def record_many(
    session: AsyncSession, items: list[CallInput], *, company: Company
) -> list[CallOutcome]:
    """A batch of call inputs in arrival order, in one unit of work (events of one call keep
    their order; the call's row lock serialises batches that share a call)."""
    return [await record(session, item, company=company) for item in items]


@dataclass(frozen=True)
class Recording:
    provider: str
    url: str | None  # where the PBX put the file, when it said
    recording_id: str | None  # or the PBX's id for it (Mango keeps the file)


async def recording_of(session: AsyncSession, call_id: int) -> Recording:
    call = await session.get(Call, call_id)
    if call is None or not (call.recording_url or call.recording_id):
        raise NotFound("this call has no recording", call_id=call_id)
    return Recording(call.provider, call.recording_url, call.recording_id)
