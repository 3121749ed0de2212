"""Leads: what staff do with them (taking, rejecting); intake lives in services.leads.intake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Deal, DealStatus, Employee, Lead, LeadStatus
from services import access, assignment, audit, clients, deals, employees, notify
from services.actors import Actor
from services.assignment import Assignment, Reason
from services.context import Company
from services.errors import Conflict, InvalidInput, NotFound
from services.leads import queue as lead_queue
from services.leads import reasons
from services.leads.inputs import LeadIn
from services.leads.intake import Incoming, IntakeResult, register_incoming, register_many

__all__ = [
    "Assigned",
    "Incoming",
    "IntakeResult",
    "LeadIn",
    "assign",
    "closing_reasons",
    "open_card",
    "register_incoming",
    "register_many",
    "reject",
    "take",
]


async def take(session: AsyncSession, lead_id: int, *, by: Actor, company: Company) -> Lead:
    """The employee accepts the lead: it becomes theirs, a target lead, and a deal. Of two
    presses at once the row lock lets one through; the other finds the lead taken."""
    lead = await session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    if lead.status is not LeadStatus.NEW and by.office_id in (None, lead.office_id):
        # Taken meanwhile (maybe from the one who pressed, by their manager): say so, whoever
        # may act on it now; someone of another office is refused below as always.
        if lead.status is LeadStatus.TARGET and lead.assignee_id == by.id:
            return lead  # a second press of the same button
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    if lead.status is not LeadStatus.NEW:
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    now, before = company.clock.now(), _snapshot(lead)
    changes_hands = lead.assignee_id != by.id
    if changes_hands:  # a manager or admin taking it: its call-back goes with it
        await lead_queue.move_tasks(session, lead.id, by.id, lead.assignee_id, company)
    lead.status, lead.assignee_id, lead.taken_at = LeadStatus.TARGET, by.id, now
    if changes_hands:  # ... and the conversation it opened, which they now see so far
        await session.flush()
        await lead_queue.conversation_follows(session, lead.id, company)
    await _responded(session, lead, now, by, company)
    await clients.set_owner_if_unowned(session, lead.client_id, by.id, now=now)
    deal_id = await deals.open_for_lead(
        session, lead, owner_id=by.id, currency=company.currency, now=now
    )
    await _changed(session, lead, "lead.taken", by=by, now=now, before=before, deal_id=deal_id)
    return lead


async def closing_reasons(
    session: AsyncSession, lead_id: int, status: LeadStatus, *, by: Actor
) -> tuple[str, ...]:
    """The reasons `by` may pick from to close the lead as `status` (it must still be new)."""
    options = reasons.of(status)
    lead = await session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    if lead.status is not LeadStatus.NEW:
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    return options


async def reject(
    session: AsyncSession,
    lead_id: int,
    status: LeadStatus,
    *,
    reason: str,
    by: Actor,
    company: Company,
) -> Lead:
    """Mark the lead non-target or spam for `reason` (one of `reasons.of(status)`); it is
    closed and stays in the reports."""
    reasons.check(status, reason)
    lead = await _for_action(session, lead_id, by)
    if lead.status is status:
        return lead  # a second press: the first reason stays
    if lead.status is not LeadStatus.NEW:
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    now, before = company.clock.now(), _snapshot(lead)
    lead.status, lead.closed_at, lead.closed_by_id = status, now, by.id
    lead.close_reason = reason
    await _responded(session, lead, now, by, company)
    await _changed(session, lead, f"lead.{status.value}", by=by, now=now, before=before)
    return lead


# lead.extra key of a lead a client's message opened (its channel: services.conversations)
CONVERSATION = "conversation_channel"


async def _responded(
    session: AsyncSession, lead: Lead, now: datetime, by: Actor, company: Company
) -> None:
    """The first answer to a lead (take or reject) is its response time, recorded once. A
    lead a client's message opened is answered by the first reply the client gets
    (services.conversations): taking it is not an answer the client sees."""
    if (lead.extra or {}).get(CONVERSATION):
        return
    await record_response(session, lead, now=now, by_id=by.id, default_tz=company.timezone)


async def record_response(
    session: AsyncSession, lead: Lead, *, now: datetime, by_id: int, default_tz: ZoneInfo
) -> None:
    """The lead's first response, once: its wall-clock time, and the part of it inside the
    responder's working hours (a lead at 17:50 on Friday answered at 9:10 on Monday took 20
    working minutes for a 9-to-18 schedule)."""
    if lead.first_response_seconds is not None:
        return
    lead.first_response_seconds = max(int((now - lead.created_at).total_seconds()), 0)
    shifts, zone = await assignment.schedule_of(session, by_id, default_tz)
    lead.first_response_work_seconds = assignment.working_seconds(
        shifts, lead.created_at, now, zone
    )


async def open_card(session: AsyncSession, lead_id: int, *, by: Actor, company: Company) -> None:
    """Send the employee the lead's full card (a digest shows each lead as a line)."""
    lead = await session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    await notify.lead_card_requested(
        session,
        lead_id=lead_id,
        employee_id=by.id,
        now=company.clock.now(),
        default_locale=company.locale,
    )


@dataclass(frozen=True)
class Assigned:
    lead_id: int
    employee_id: int
    employee_name: str


async def assign(
    session: AsyncSession, lead_id: int, *, to: int, by: Actor | None, company: Company
) -> Assigned:
    """Give a new or taken lead to an employee (`by` None: the operator at the command line).
    They get the card; the copies others got show who has it now. A taken lead's open deal
    goes with it."""
    lead = await session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    target = await _assignable(session, to)
    if by is not None:
        access.require_assign(by, office_id=lead.office_id, to_office_id=target.office_id)
    if lead.status not in (LeadStatus.NEW, LeadStatus.TARGET):
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    if lead.assignee_id == target.id:
        return Assigned(lead_id, target.id, target.name)
    if lead.status is LeadStatus.TARGET:
        await _hand_over(session, lead, target, by=by, company=company)
        return Assigned(lead_id, target.id, target.name)
    choice = Assignment(
        target.id, target.office_id, Reason.MANUAL, target.telegram_id, target.locale
    )
    previous = lead.assignee_id
    await lead_queue.give(
        session, lead_id, choice, company=company, previous=previous, by_id=by and by.id
    )
    await session.refresh(lead)
    return Assigned(lead_id, target.id, target.name)


async def _hand_over(
    session: AsyncSession, lead: Lead, target: Employee, *, by: Actor | None, company: Company
) -> None:
    """A taken lead changes hands: its open tasks and the open deal Take opened for it go to
    the new assignee, who gets the card."""
    now, before, previous = company.clock.now(), _snapshot(lead), lead.assignee_id
    lead.assignee_id = target.id
    await lead_queue.move_tasks(session, lead.id, target.id, previous, company)
    await session.flush()
    await lead_queue.conversation_follows(session, lead.id, company)
    for deal_id in await _hand_over_deals(session, lead.id, previous, target.id, now):
        await audit.log(
            session,
            action="deal.owner_changed",
            entity_type="deal",
            entity_id=deal_id,
            at=now,
            actor_id=by and by.id,
            actor_kind="employee" if by else "system",
            changes=audit.diff({"owner_id": previous}, {"owner_id": target.id}),
        )
    await _changed(session, lead, "lead.reassigned", by=by, now=now, before=before)
    await notify.lead_card_requested(
        session, lead_id=lead.id, employee_id=target.id, now=now, default_locale=company.locale
    )


async def _assignable(session: AsyncSession, employee_id: int) -> Employee:
    """Someone who will see the card: active, with Telegram bound."""
    employee = await employees.get(session, employee_id)
    if not employee.is_active:
        raise InvalidInput(
            f"{employee.name} is deactivated", key="queue.assignee_inactive", name=employee.name
        )
    if employee.telegram_id is None:
        raise InvalidInput(
            f"{employee.name} has not bound Telegram and would never see the card",
            key="queue.assignee_no_telegram",
            name=employee.name,
        )
    return employee


async def _hand_over_deals(
    session: AsyncSession, lead_id: int, previous: int | None, to: int, now: datetime
) -> list[int]:
    """The lead's open deals the previous assignee owned (the one Take opened) go along.
    (Here rather than in services.deals: it is a step of reassigning a lead.)"""
    d = Deal.__table__
    stmt = (
        sa.update(d)
        .where(d.c.lead_id == lead_id, d.c.owner_id == previous, d.c.status == DealStatus.OPEN)
        .values(owner_id=to, updated_at=now)
        .returning(d.c.id)
    )
    return sorted((await session.execute(stmt)).scalars())


_AUDITED = (
    "status",
    "assignee_id",
    "taken_at",
    "closed_at",
    "closed_by_id",
    "close_reason",
    "first_response_seconds",
)


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {field: getattr(lead, field) for field in _AUDITED}


async def _changed(
    session: AsyncSession,
    lead: Lead,
    action: str,
    *,
    by: Actor | None,
    now: datetime,
    before: dict[str, Any],
    **data: Any,
) -> None:
    """Audit the change (before → after) and have every copy of the lead's card show it."""
    await audit.log(
        session,
        action=action,
        entity_type="lead",
        entity_id=lead.id,
        at=now,
        actor_id=by and by.id,
        actor_kind="employee" if by else "system",
        changes=audit.diff(before, _snapshot(lead)),
        **data,
    )
    await session.flush()
    await notify.lead_changed(session, lead_id=lead.id, now=now)


async def _for_action(session: AsyncSession, lead_id: int, by: Actor) -> Lead:
    lead = await session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    return lead
