"""Leads: what staff do with them (taking, rejecting); intake lives in services.leads.intake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Lead, LeadStatus
from services import access, audit, clients, deals, employees, notify
from services.actors import Actor
from services.assignment import Assignment, Reason
from services.context import Company
from services.errors import Conflict, InvalidInput, NotFound
from services.leads import queue as lead_queue
from services.leads.inputs import LeadIn
from services.leads.intake import Incoming, IntakeResult, register_incoming, register_many

__all__ = [
    "Assigned",
    "Incoming",
    "IntakeResult",
    "LeadIn",
    "assign",
    "open_card",
    "register_incoming",
    "register_many",
    "reject",
    "take",
]


async def take(session: AsyncSession, lead_id: int, *, by: Actor, company: Company) -> Lead:
    """The employee accepts the lead: it becomes theirs, a target lead, and a deal."""
    lead = await _for_action(session, lead_id, by)
    if lead.status is not LeadStatus.NEW:
        if lead.status is LeadStatus.TARGET and lead.assignee_id == by.id:
            return lead  # a second press of the same button
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    now = company.clock.now()
    if lead.assignee_id != by.id:  # a manager or admin taking it: its call-back goes with it
        await lead_queue.move_tasks(session, lead.id, by.id, lead.assignee_id, company)
    lead.status, lead.assignee_id, lead.taken_at = LeadStatus.TARGET, by.id, now
    lead.first_response_seconds = max(int((now - lead.created_at).total_seconds()), 0)
    await clients.set_owner_if_unowned(session, lead.client_id, by.id, now=now)
    await deals.open_for_lead(session, lead, owner_id=by.id, currency=company.currency, now=now)
    await _changed(session, lead, "lead.taken", by=by, now=now)
    return lead


async def reject(
    session: AsyncSession, lead_id: int, status: LeadStatus, *, by: Actor, company: Company
) -> Lead:
    """Mark the lead non-target or spam; it is closed and stays in the reports."""
    if status not in (LeadStatus.NON_TARGET, LeadStatus.SPAM):
        raise InvalidInput("a lead can be rejected only as non-target or spam")
    lead = await _for_action(session, lead_id, by)
    if lead.status is status:
        return lead
    if lead.status is not LeadStatus.NEW:
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    now = company.clock.now()
    lead.status, lead.closed_at, lead.closed_by_id = status, now, by.id
    if lead.first_response_seconds is None:
        lead.first_response_seconds = max(int((now - lead.created_at).total_seconds()), 0)
    await _changed(session, lead, f"lead.{status.value}", by=by, now=now)
    return lead


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
    """Give a new lead to an employee (`by` None: the operator at the command line). They get
    the card; the copies others got show who has it now."""
    lead = await session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    target = await _assignable(session, to)
    if by is not None:
        access.require_assign(by, office_id=lead.office_id, to_office_id=target.office_id)
    if lead.status is not LeadStatus.NEW:
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    if lead.assignee_id != target.id:
        choice = Assignment(
            target.id, target.office_id, Reason.MANUAL, target.telegram_id, target.locale
        )
        previous = lead.assignee_id
        await lead_queue.give(
            session, lead_id, choice, company=company, previous=previous, by_id=by and by.id
        )
        await session.refresh(lead)
    return Assigned(lead_id, target.id, target.name)


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


async def _changed(
    session: AsyncSession, lead: Lead, action: str, *, by: Actor, now: datetime
) -> None:
    """Audit the change and have every copy of the lead's card show it."""
    await audit.log(
        session,
        action=action,
        entity_type="lead",
        entity_id=lead.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
    )
    await session.flush()
    await notify.lead_changed(session, lead_id=lead.id, now=now)


async def _for_action(session: AsyncSession, lead_id: int, by: Actor) -> Lead:
    lead = await session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    return lead
