"""Escalations: what has waited too long goes to the office's manager, once per occurrence
(the thresholds: services.context.EscalationRules, from settings).

- a task overdue by more than `task_minutes` (its occurrence: the due time; a task moved to a
  new due time that passes too is a new one);
- a lead still without a first response after `response_minutes` of working time (the
  assignee's shifts; nobody's lead: the clock);
- an open deal with no change for its stage's `stuck_after_days` (else `deal_days`) days (its
  occurrence: the deal's last change);
- a support ticket not answered `ticket_minutes` after the author last wrote.

Each goes to the active managers (with Telegram) of the item's office, or the admins when it
has none or the office has no manager, with a button that opens the item. The job runs every
minute in any number of processes: one outbox row per (item, occurrence, person), with a
dedupe key, so each is told once; after downtime the job finds what came due meanwhile. The
text is made when sent: an item dealt with meanwhile is not escalated (bot.telegram).
Only items of the last week are looked at (a fresh install does not page about old ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Channel,
    Deal,
    DealStatus,
    Employee,
    Lead,
    LeadStatus,
    OutboxLane,
    OutboxMessage,
    PipelineStage,
    Role,
    Task,
    TaskStatus,
    Ticket,
    TicketStatus,
)
from services import assignment, notify, outbox
from services.context import Company, EscalationRules

ESCALATION = "escalation"  # outbox kind
LOOK_BACK = timedelta(days=7)
BATCH = 500  # items of one kind per run
PAGES = 10  # pages of leads looked through for those due in working time


Rules = EscalationRules


@dataclass(frozen=True)
class Due:
    kind: str  # "task", "lead", "deal", "ticket"
    entity_id: int
    occurrence: int  # epoch seconds of what it waits since
    office_id: int | None


async def run(session: AsyncSession, company: Company) -> int:
    """Write the escalations that came due; returns how many rows were written."""
    now, rules = company.clock.now(), company.escalations
    due = [
        *await _tasks(session, now, rules),
        *await _leads(session, now, rules, company),
        *await _deals(session, now, rules),
        *await _tickets(session, now, rules),
    ]
    if not due:
        return 0
    managers = await _managers(session)
    admins: list[notify.Person] | None = None
    rows: dict[str, outbox.Outgoing] = {}
    for item in due:
        people = managers.get(item.office_id) or []
        if not people:
            admins = admins if admins is not None else await notify.with_role(session, Role.ADMIN)
            people = admins
        for person in people:
            key = f"{ESCALATION}:{item.kind}:{item.entity_id}:{item.occurrence}:{person.id}"
            rows[key] = outbox.Outgoing(
                channel=Channel.TELEGRAM,
                recipient=person.telegram_id,  # type: ignore[arg-type]
                kind=ESCALATION,
                payload={"kind": item.kind, "id": item.entity_id, "since": item.occurrence},
                locale=person.locale or company.locale,
                lane=OutboxLane.INTERACTIVE,
                entity=(item.kind, item.entity_id),
                dedupe_key=key,
            )
    o = OutboxMessage.__table__
    known: set[str] = set()
    keys = sorted(rows)
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        found = await session.execute(sa.select(o.c.dedupe_key).where(o.c.dedupe_key.in_(chunk)))
        known |= set(found.scalars())
    fresh = [row for key, row in sorted(rows.items()) if key not in known]
    written = await outbox.enqueue_many(session, fresh, now=now)
    return sum(i is not None for i in written)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _not_escalated(kind: str, entity_id: Any, since: Any) -> sa.ColumnElement[bool]:
    """No escalation of this occurrence written yet (one written after it began is of it):
    items told already never fill a run's batch (on `ix_outbox_entity`)."""
    o = OutboxMessage.__table__
    told = sa.select(o.c.id).where(
        o.c.entity_type == kind,
        o.c.entity_id == entity_id,
        o.c.kind == ESCALATION,
        o.c.created_at > since,
    )
    return ~told.exists()


async def _tasks(session: AsyncSession, now: datetime, rules: Rules) -> list[Due]:
    late = now - timedelta(minutes=rules.task_minutes)
    stmt = (
        sa.select(Task.id, Task.due_at, Employee.office_id)
        .outerjoin(Employee, Employee.id == Task.assignee_id)
        .where(
            Task.status == TaskStatus.OPEN,
            Task.due_at < late,
            Task.due_at > now - LOOK_BACK,
            _not_escalated("task", Task.id, Task.due_at),
        )
        .order_by(Task.due_at)
        .limit(BATCH)
    )
    return [Due("task", i, _epoch(due), office) for i, due, office in await _rows(session, stmt)]


async def _leads(session: AsyncSession, now: datetime, rules: Rules, company: Company) -> list[Due]:
    """Untouched leads past the response time, counted in their assignee's working hours
    (each candidate's shifts are read: a handful of leads, not the table)."""
    wait = timedelta(minutes=rules.response_minutes)
    office = sa.func.coalesce(Lead.office_id, Employee.office_id)
    base = (
        sa.select(Lead.id, Lead.created_at, Lead.assignee_id, office)
        .outerjoin(Employee, Employee.id == Lead.assignee_id)
        .where(
            Lead.status == LeadStatus.NEW,
            Lead.first_response_seconds.is_(None),
            Lead.created_at < now - wait,
            Lead.created_at > now - LOOK_BACK,
            _not_escalated("lead", Lead.id, Lead.created_at),
        )
        .order_by(Lead.created_at, Lead.id)
        .limit(BATCH)
    )
    due: list[Due] = []
    schedules: dict[int, tuple[list[assignment.Shift], Any]] = {}  # one read per assignee
    after: tuple[datetime, int] | None = None
    for _page in range(PAGES):  # leads not due yet in working time are passed by, a page on
        stmt = base
        if after is not None:
            stmt = stmt.where(sa.tuple_(Lead.created_at, Lead.id) > after)
        rows = await _rows(session, stmt)
        for lead_id, created, assignee_id, office_id in rows:
            after = (created, lead_id)
            if assignee_id is not None:
                if assignee_id not in schedules:
                    schedules[assignee_id] = await assignment.schedule_of(
                        session, assignee_id, company.timezone
                    )
                shifts, zone = schedules[assignee_id]
                if assignment.working_seconds(shifts, created, now, zone) < wait.total_seconds():
                    continue
            due.append(Due("lead", lead_id, _epoch(created), office_id))
        if len(rows) < BATCH or len(due) >= BATCH:
            break
    return due


async def _deals(session: AsyncSession, now: datetime, rules: Rules) -> list[Due]:
    """Per stage (a few), the open deals unchanged for longer than the stage allows."""
    stages = (
        await session.execute(
            sa.select(PipelineStage.id, PipelineStage.stuck_after_days).where(
                PipelineStage.kind == "open"
            )
        )
    ).all()
    due: list[Due] = []
    for stage_id, days in stages:
        quiet = now - timedelta(days=days or rules.deal_days)
        stmt = (
            sa.select(
                Deal.id, Deal.updated_at, sa.func.coalesce(Deal.office_id, Employee.office_id)
            )
            .outerjoin(Employee, Employee.id == Deal.owner_id)
            .where(
                Deal.stage_id == stage_id,
                Deal.status == DealStatus.OPEN,
                Deal.updated_at < quiet,
                Deal.updated_at > quiet - LOOK_BACK,
                _not_escalated("deal", Deal.id, Deal.updated_at),
            )
            .order_by(Deal.updated_at)
            .limit(BATCH)
        )
        due += [Due("deal", i, _epoch(at), office) for i, at, office in await _rows(session, stmt)]
    return due


async def _tickets(session: AsyncSession, now: datetime, rules: Rules) -> list[Due]:
    waiting_since = sa.func.coalesce(Ticket.last_reply_at, Ticket.created_at)
    late = now - timedelta(minutes=rules.ticket_minutes)
    stmt = (
        sa.select(Ticket.id, waiting_since, Employee.office_id)
        .join(Employee, Employee.id == Ticket.author_id)
        .where(
            Ticket.status == TicketStatus.OPEN,
            waiting_since < late,
            waiting_since > now - LOOK_BACK,
            _not_escalated("ticket", Ticket.id, waiting_since),
        )
        .order_by(waiting_since)
        .limit(BATCH)
    )
    return [Due("ticket", i, _epoch(at), office) for i, at, office in await _rows(session, stmt)]


async def _rows(session: AsyncSession, stmt: Any) -> list[Any]:
    return list((await session.execute(stmt)).all())


async def _managers(session: AsyncSession) -> dict[int | None, list[notify.Person]]:
    """Each office's active managers with Telegram."""
    e = Employee.__table__
    stmt = sa.select(e.c.office_id, e.c.id, e.c.telegram_id, e.c.locale).where(
        e.c.is_active, e.c.telegram_id.is_not(None), e.c.role == Role.MANAGER
    )
    found: dict[int | None, list[notify.Person]] = {}
    for office_id, *person in (await session.execute(stmt.order_by(e.c.id))).all():
        if office_id is not None:
            found.setdefault(office_id, []).append(notify.Person(*person))
    return found


# --- what an escalation says, read when it is sent


@dataclass(frozen=True)
class View:
    kind: str
    entity_id: int
    what: str  # the task's title, the lead's name and phone, the deal's title, the subject
    who: str | None  # whose it is (assignee, owner, author)
    since: datetime  # what it has waited since (due time, creation, last change, last word)
    where: str | None = None  # the deal's stage, the ticket's category
    waited: int = 0  # seconds; a lead's in its assignee's working time


async def view(
    session: AsyncSession, kind: str, entity_id: int, since: int, *, company: Company
) -> View | None:
    """The item as it is now; None when it was dealt with (or moved on) since it came due."""
    found = await _view(session, kind, entity_id, since)
    if found is None:
        return None
    now = company.clock.now()
    waited = int((now - found.since).total_seconds())
    if kind == "lead":
        lead = await session.get(Lead, entity_id)
        if lead is not None and lead.assignee_id is not None:
            shifts, zone = await assignment.schedule_of(session, lead.assignee_id, company.timezone)
            waited = assignment.working_seconds(shifts, found.since, now, zone)
    return View(
        found.kind, found.entity_id, found.what, found.who, found.since, found.where, waited
    )


async def _view(session: AsyncSession, kind: str, entity_id: int, since: int) -> View | None:
    if kind == "task":
        task = await session.get(Task, entity_id)
        if task is None or task.status is not TaskStatus.OPEN or task.due_at is None:
            return None
        if _epoch(task.due_at) != since:
            return None  # moved to a new due time: that one is escalated on its own
        return View(
            kind, entity_id, task.title, await _name(session, task.assignee_id), task.due_at
        )
    if kind == "lead":
        lead = await session.get(Lead, entity_id)
        if lead is None or lead.status is not LeadStatus.NEW or lead.first_response_seconds:
            return None
        what = " · ".join(x for x in (lead.name, lead.phone, lead.source) if x)
        return View(kind, entity_id, what, await _name(session, lead.assignee_id), lead.created_at)
    if kind == "deal":
        deal = await session.get(Deal, entity_id)
        if deal is None or deal.status is not DealStatus.OPEN or _epoch(deal.updated_at) != since:
            return None
        stage = await session.get(PipelineStage, deal.stage_id)
        who = await _name(session, deal.owner_id)
        return View(
            kind, entity_id, deal.title, who, deal.updated_at, stage.name if stage else None
        )
    if kind == "ticket":
        ticket = await session.get(Ticket, entity_id)
        if ticket is None or ticket.status is not TicketStatus.OPEN:
            return None
        waiting = ticket.last_reply_at or ticket.created_at
        if _epoch(waiting) != since:
            return None
        who = await _name(session, ticket.author_id)
        return View(kind, entity_id, ticket.subject, who, waiting, ticket.category)
    return None


async def _name(session: AsyncSession, employee_id: int | None) -> str | None:
    if employee_id is None:
        return None
    return await session.scalar(sa.select(Employee.name).where(Employee.id == employee_id))
