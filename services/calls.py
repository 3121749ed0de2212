"""Calls from any PBX: live events (screen-pop), the final summary, recordings.

Adapters (Mango Office, the generic webhook) translate their payloads into `CallEventIn`,
`CallSummaryIn` and `RecordingIn`; everything a call means for the business happens here:
the call in the client's history, the card that pops up for the employee, and, for a missed
call nobody returned, a lead and a "call back" task.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Call,
    CallPhase,
    CallStatus,
    Channel,
    Direction,
    Employee,
    Lead,
    LeadStatus,
    PhoneLine,
)
from services import clients, inbound, intake, notify, tasks
from services.context import Company
from services.errors import InvalidPhone
from services.identities import normalize_phone


class CallState(enum.StrEnum):
    APPEARED = "appeared"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    DISCONNECTED = "disconnected"


_PHASE = {
    CallState.APPEARED: CallPhase.RINGING,
    CallState.CONNECTED: CallPhase.TALKING,
    CallState.ON_HOLD: CallPhase.TALKING,
    CallState.DISCONNECTED: CallPhase.ENDED,
}
_RANK = {CallPhase.RINGING: 0, CallPhase.TALKING: 1, CallPhase.ENDED: 2}


class Party(BaseModel):
    """One end of a call: an outside number and/or an employee's extension."""

    number: str | None = Field(default=None, max_length=200)
    extension: str | None = Field(default=None, max_length=32)


class CallEventIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)  # the whole call
    leg_id: str = Field(min_length=1, max_length=200)  # one leg of it
    seq: int = 0  # orders the events of one leg
    state: CallState
    at: datetime
    caller: Party
    callee: Party
    line_number: str | None = None
    disconnect_reason: str | None = None


class CallSummaryIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)
    direction: Direction
    caller: Party
    callee: Party
    line_number: str | None = None
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    talk_seconds: int = Field(default=0, ge=0)
    answered: bool
    disconnect_reason: str | None = None
    recording_url: str | None = Field(default=None, max_length=2000)


class RecordingIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)
    recording_id: str | None = None
    recording_url: str | None = Field(default=None, max_length=2000)


@dataclass(frozen=True)
class CallOutcome:
    call_id: int | None
    duplicate: bool = False
    lead_id: int | None = None
    task_id: int | None = None


DUPLICATE = CallOutcome(None, duplicate=True)


async def record_event(
    session: AsyncSession, event: CallEventIn, *, company: Company
) -> CallOutcome:
    """A live event: keep the call's phase, pop the card up for whoever's phone rings."""
    key = f"{event.entry_id}:{event.leg_id}:{event.seq}"
    if not await inbound.record(
        session, source=f"{event.provider}:call", external_id=key, clock=company.clock
    ):
        return DUPLICATE
    direction = _direction(event.caller, event.callee)
    with session.no_autoflush:
        call = await _call(
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
        if not _advance(call, event):
            return CallOutcome(call.id)  # an older event of this leg, arriving late
        ours = event.callee if direction is Direction.IN else event.caller
        employee = await _employee(session, ours, call.line_id)
    if employee is not None and call.employee_id is None and direction is not Direction.IN:
        call.employee_id = employee.id
    if event.state is CallState.CONNECTED and employee is not None:
        call.employee_id, call.status = employee.id, CallStatus.ANSWERED
        call.answered_at = call.answered_at or event.at
    await session.flush()
    now = company.clock.now()
    if event.state is CallState.APPEARED and employee is not None:
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
    call = await _call(
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
    employee = await _employee(session, ours, call.line_id)
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
    await session.flush()
    outcome = CallOutcome(call.id)
    if call.direction is Direction.IN and not summary.answered:
        outcome = await _missed(session, call, company)
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
    call = await _by_entry(session, recording.provider, recording.entry_id)
    if call is None:
        call = Call(
            provider=recording.provider,
            external_id=recording.entry_id,
            direction=Direction.IN,
            legs={},
        )
        session.add(call)
    call.recording_url = recording.recording_url or call.recording_url
    call.recording_id = recording.recording_id or call.recording_id
    await session.flush()
    await notify.call_changed(session, call_id=call.id, now=company.clock.now())
    return CallOutcome(call.id)


async def _missed(session: AsyncSession, call: Call, company: Company) -> CallOutcome:
    """A missed incoming call nobody has returned yet: a lead (unless one is open) and a
    call-back task due at once for the responsible employee."""
    if call.client_id is None or await _returned_since(session, call):
        return CallOutcome(call.id)
    lead = await _open_lead(session, call.client_id)
    if lead is None:
        line = await session.get(PhoneLine, call.line_id) if call.line_id else None
        result = await intake.register_incoming(
            session,
            intake.LeadIn(
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
    assignee = lead.assignee_id or call.employee_id
    task = await tasks.open_call_back(
        session,
        client_id=call.client_id,
        call_id=call.id,
        lead_id=lead.id,
        assignee_id=assignee,
        number=call.client_number,
        now=company.clock.now(),
        default_locale=company.locale,
    )
    return CallOutcome(call.id, lead_id=lead.id, task_id=task)


def _lead_source(line: PhoneLine | None) -> str:
    if line is None:
        return "call"
    return f"call:{line.source or line.name}"


async def _returned_since(session: AsyncSession, call: Call) -> bool:
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


def _direction(caller: Party, callee: Party) -> Direction:
    if caller.extension and callee.extension:
        return Direction.INTERNAL
    return Direction.OUT if caller.extension else Direction.IN


def _advance(call: Call, event: CallEventIn) -> bool:
    """Record the leg's event if it is newer than what we have; the call's phase is the
    furthest-back live leg (a call ends when all its legs have)."""
    legs = dict(call.legs or {})
    last = legs.get(event.leg_id)
    if last is not None and event.seq <= last["seq"]:
        return False
    phase = _PHASE[event.state]
    if last is not None and _RANK[CallPhase(last["phase"])] > _RANK[phase]:
        phase = CallPhase(last["phase"])  # a leg never goes back
    legs[event.leg_id] = {"seq": event.seq, "phase": phase.value}
    call.legs = legs
    if call.summarized_at is None:
        live = [CallPhase(leg["phase"]) for leg in legs.values()]
        call.phase = (
            CallPhase.TALKING
            if CallPhase.TALKING in live
            else CallPhase.RINGING
            if CallPhase.RINGING in live
            else CallPhase.ENDED
        )
    if phase is CallPhase.ENDED and event.disconnect_reason:
        call.disconnect_reason = event.disconnect_reason
    return True


async def _call(
    session: AsyncSession,
    provider: str,
    entry_id: str,
    direction: Direction,
    caller: Party,
    callee: Party,
    line_number: str | None,
    at: datetime,
    company: Company,
) -> Call:
    call = await _by_entry(session, provider, entry_id)
    created = call is None
    if call is None:
        call = Call(
            provider=provider,
            external_id=entry_id,
            direction=direction,
            legs={},
            status=CallStatus.RINGING,
            phase=CallPhase.RINGING,
            started_at=at,
        )
        session.add(call)
    outside = caller if direction is Direction.IN else callee
    call.direction = direction
    call.from_number, call.to_number = (
        caller.number or caller.extension,
        callee.number or callee.extension,
    )
    call.client_number = call.client_number or _phone(outside.number, company.region)
    line = (_phone(line_number, company.region) or line_number) if line_number else None
    if line and line != call.line_number:
        call.line_number, call.line_id = line, await _line_id(session, line)
    if created and call.client_number:
        found = await clients.find(session, [(Channel.PHONE, call.client_number)])
        call.client_id = found.id if found else None
    if call.started_at is None or at < call.started_at:
        call.started_at = at
    return call


_BY_ENTRY = (
    sa.select(Call)
    .where(Call.provider == sa.bindparam("provider"), Call.external_id == sa.bindparam("entry"))
    .with_for_update()
)
_LINE = sa.select(PhoneLine.id).where(PhoneLine.number == sa.bindparam("number"))
_E = Employee.__table__
_BY_EXTENSION = (
    sa.select(_E.c.id, _E.c.telegram_id, _E.c.locale)
    .where(_E.c.extension == sa.bindparam("extension"), _E.c.is_active)
    .limit(1)
)
_BY_LINE = (
    sa.select(_E.c.id, _E.c.telegram_id, _E.c.locale)
    .join(PhoneLine.__table__, PhoneLine.employee_id == _E.c.id)
    .where(PhoneLine.id == sa.bindparam("line"), _E.c.is_active)
    .limit(1)
)


async def _by_entry(session: AsyncSession, provider: str, entry_id: str) -> Call | None:
    result = await session.execute(_BY_ENTRY, {"provider": provider, "entry": entry_id})
    return result.scalar_one_or_none()


def _phone(number: str | None, region: str) -> str | None:
    """The outside party's number in E.164, or None for an extension, SIP URI or garbage.

    PBXs write numbers as dialled ("8 912…") or as country code and digits without "+"
    ("7912…", "375…"); the national reading is tried first, then the international one.
    """
    if not number or number.startswith("sip:"):
        return None
    for candidate, international in ((number, False), (number, True)):
        try:
            return normalize_phone(candidate, region, international=international)
        except InvalidPhone:
            continue
    return None


async def _line_id(session: AsyncSession, number: str) -> int | None:
    return (await session.execute(_LINE, {"number": number})).scalar_one_or_none()


async def _employee(session: AsyncSession, party: Party, line_id: int | None) -> sa.Row | None:
    """Whose phone this is: the extension, or else the owner of the line that was called."""
    if party.extension:
        found = (await session.execute(_BY_EXTENSION, {"extension": party.extension})).first()
        if found is not None:
            return found
    if line_id is not None:
        return (await session.execute(_BY_LINE, {"line": line_id})).first()
    return None


CallInput = CallEventIn | CallSummaryIn | RecordingIn


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
