"""The queue: new leads nobody has yet, and handing them out.

A lead waits here while it is new and unassigned: it came when nobody with Telegram was on
duty and no office manager had Telegram either, or its assignee was deactivated. Every admin
with Telegram got its card when it arrived. It leaves the queue when
- someone comes on duty: the `hand_out_queue` job gives it out by the same rules as a new lead
  (round-robin among those on duty, else the office manager), or someone binds Telegram;
- a manager or an admin assigns it (`/queue` in Telegram, `crm lead assign`), or an admin
  presses Take on its card.
Whoever gets it gets the card (and the call-back task of a missed call that opened it); the
copies the admins got are edited to show who has it now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Lead, LeadStatus, Role, Task, TaskStatus
from services import access, assignment, audit, notify
from services.access import HasRole
from services.assignment import Assignment, Reason
from services.context import Company
from services.errors import NotFound

HAND_OUT_BATCH = 100  # leads per job run: a long queue goes out over a few runs
VIEW_LIMIT = 10

_L, _T = Lead.__table__, Task.__table__
_WAITING = (_L.c.status == LeadStatus.NEW, _L.c.assignee_id.is_(None))


@dataclass(frozen=True)
class HandOut:
    given: int
    waiting: int


@dataclass(frozen=True)
class WaitingLead:
    id: int
    created_at: datetime
    name: str | None
    phone: str | None
    source: str


@dataclass(frozen=True)
class QueueView:
    leads: list[WaitingLead]
    total: int


@dataclass(frozen=True)
class Person:
    id: int
    name: str


async def hand_out(
    session: AsyncSession, company: Company, *, limit: int = HAND_OUT_BATCH
) -> HandOut:
    """Give waiting leads to whoever would get a new lead now. Safe in several processes at
    once: the leads are claimed (SKIP LOCKED on PostgreSQL) and given only while unassigned."""
    now = company.clock.now()
    claimed = await _claim(session, limit)
    offices = [office for _, office in claimed]
    choices = await assignment.choose_many(session, offices, now=now, timezone=company.timezone)
    given = 0
    for (lead_id, _), choice in zip(claimed, choices, strict=True):
        if choice.employee_id is not None:
            given += await give(session, lead_id, choice, company=company, previous=None)
    return HandOut(given, await count_waiting(session))


async def give(
    session: AsyncSession,
    lead_id: int,
    to: Assignment,
    *,
    company: Company,
    previous: int | None,
    by_id: int | None = None,
) -> bool:
    """Make `to` the new lead's assignee (if it is still `previous`'s); they get the card and
    the lead's open call-back task, and every earlier copy of the card shows who has it."""
    now = company.clock.now()
    owner = _L.c.assignee_id.is_(None) if previous is None else _L.c.assignee_id == previous
    stmt = (
        sa.update(_L)
        .where(_L.c.id == lead_id, _L.c.status == LeadStatus.NEW, owner)
        .values(
            assignee_id=to.employee_id,
            office_id=sa.func.coalesce(_L.c.office_id, to.office_id),
            updated_at=now,
        )
        .returning(_L.c.id)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return False  # taken meanwhile (another process, a button)
    await move_tasks(session, lead_id, to.employee_id, previous, company)
    await notify.lead_changed(session, lead_id=lead_id, now=now)
    await notify.leads_arrived(session, [(lead_id, to)], now=now, default_locale=company.locale)
    await conversation_follows(session, lead_id, company)
    await audit.log(
        session,
        action="lead.assigned",
        entity_type="lead",
        entity_id=lead_id,
        at=now,
        actor_id=by_id,
        actor_kind="employee" if by_id else "system",
        assignee_id=to.employee_id,
        previous=previous,
        changes=audit.diff({"assignee_id": previous}, {"assignee_id": to.employee_id}),
    )
    return True


async def conversation_follows(session: AsyncSession, lead_id: int, company: Company) -> None:
    """A conversation the lead opened goes with it: its new answerer sees it so far."""
    # Imported here: conversations open leads through intake, which this package holds.
    from services.conversations.handover import lead_changed_hands

    await lead_changed_hands(session, [lead_id], now=company.clock.now(), locale=company.locale)


async def release(session: AsyncSession, *, assignee_id: int, company: Company) -> list[int]:
    """The employee's untaken leads (and their open call-back tasks) go back to the queue."""
    now = company.clock.now()
    stmt = (
        sa.update(_L)
        .where(_L.c.assignee_id == assignee_id, _L.c.status == LeadStatus.NEW)
        .values(assignee_id=None, updated_at=now)
        .returning(_L.c.id)
    )
    released = sorted((await session.execute(stmt)).scalars())
    if released:
        await session.execute(
            sa.update(_T)
            .where(_T.c.lead_id.in_(released), _T.c.assignee_id == assignee_id, _open_task())
            .values(assignee_id=None, updated_at=now)
        )
    for lead_id in released:
        await notify.lead_changed(session, lead_id=lead_id, now=now)
    return released


async def show_to_admins(
    session: AsyncSession, company: Company, *, limit: int = HAND_OUT_BATCH
) -> int:
    """Every admin with Telegram gets the card of each waiting lead they have not had yet."""
    stmt = sa.select(_L.c.id, _L.c.office_id).where(*_WAITING).order_by(_L.c.id).limit(limit)
    waiting = (await session.execute(stmt)).all()
    arrivals = [(lead_id, Assignment(None, office, Reason.NOBODY)) for lead_id, office in waiting]
    return await notify.leads_arrived(
        session, arrivals, now=company.clock.now(), default_locale=company.locale
    )


async def waiting(session: AsyncSession, *, by: HasRole, limit: int = VIEW_LIMIT) -> QueueView:
    """The oldest waiting leads this manager (their office's and office-less ones) or admin
    may assign."""
    access.require_queue(by)
    visible = [*_WAITING]
    if by.role is not Role.ADMIN and by.office_id is not None:
        visible.append(sa.or_(_L.c.office_id.is_(None), _L.c.office_id == by.office_id))
    stmt = (
        sa.select(
            _L.c.id,
            _L.c.created_at,
            _L.c.name,
            sa.func.coalesce(_L.c.phone, _L.c.raw_phone),
            _L.c.source,
        )
        .where(*visible)
        .order_by(_L.c.id)
        .limit(limit)
    )
    rows = [WaitingLead(*row) for row in (await session.execute(stmt)).all()]
    total = (await session.execute(sa.select(sa.func.count()).where(*visible))).scalar_one()
    return QueueView(rows, total)


async def candidates(
    session: AsyncSession, lead_id: int, *, by: HasRole, company: Company
) -> list[Person]:
    """Who is on duty now for this lead's office: whom a manager may give it to."""
    access.require_queue(by)
    office_id = (
        await session.execute(sa.select(_L.c.office_id).where(_L.c.id == lead_id))
    ).one_or_none()
    if office_id is None:
        raise NotFound("no such lead", lead_id=lead_id)
    rows = await assignment.on_duty_now(
        session, now=company.clock.now(), timezone=company.timezone, office_id=office_id[0]
    )
    return [
        Person(row.id, row.name)
        for row in rows
        if access.can_assign_lead(by, office_id=office_id[0], to_office_id=row.office_id)
    ]


async def count_waiting(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count()).where(*_WAITING))).scalar_one()


async def _claim(session: AsyncSession, limit: int) -> list[tuple[int, int | None]]:
    stmt = sa.select(_L.c.id, _L.c.office_id).where(*_WAITING).order_by(_L.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [(row.id, row.office_id) for row in (await session.execute(stmt)).all()]


async def move_tasks(
    session: AsyncSession, lead_id: int, to: int | None, previous: int | None, company: Company
) -> None:
    """The lead's open tasks that were nobody's or the previous assignee's follow the lead."""
    now = company.clock.now()
    whose = _T.c.assignee_id.is_(None)
    if previous is not None:
        whose = sa.or_(whose, _T.c.assignee_id == previous)
    stmt = (
        sa.update(_T)
        .where(_T.c.lead_id == lead_id, _open_task(), whose)
        .values(assignee_id=to, updated_at=now)
        .returning(_T.c.id)
    )
    for task_id in sorted((await session.execute(stmt)).scalars()):
        await notify.task_assigned(
            session, task_id=task_id, assignee_id=to, now=now, default_locale=company.locale
        )


def _open_task() -> sa.ColumnElement[bool]:
    return _T.c.status == TaskStatus.OPEN
