"""Bulk changes from the admin web: many deals given to another employee at once.

Each operation is counted first (`plan_reassign`), then applied in one transaction
(`reassign`) that refuses to go on if the count has changed since the admin saw it. What each
record held before is kept in `bulk_operation_rows`, so the whole operation can be undone for
24 hours (`undo`): undo puts back only the records that still hold what the operation set, and
says how many were changed since and kept. Everyone whose records moved gets one summary in
Telegram, not a card per record. Every statement works on the set at once (INSERT … SELECT,
UPDATE … WHERE id IN), so ten thousand deals take a handful of statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AuditEntry,
    BulkOperation,
    BulkOperationRow,
    Channel,
    Deal,
    DealStatus,
    Employee,
    Task,
)
from models.enums import TaskStatus
from services import access, audit, outbox
from services.actors import Actor
from services.context import Company
from services.deals.lists import DealFilter, matching
from services.errors import AccessDenied, Conflict, NotFound

UNDO_FOR = timedelta(hours=24)
SUMMARY = "bulk_summary"  # outbox kind: one employee's share of an operation
REASSIGN = "reassign"
DEAL, TASK = "deal", "task"

_D, _T = Deal.__table__, Task.__table__
_R, _OP = BulkOperationRow.__table__, BulkOperation.__table__


@dataclass(frozen=True)
class Target:
    id: int
    name: str
    office_id: int | None


@dataclass(frozen=True)
class ReassignPlan:
    """What giving the chosen deals to `to` would do, counted before anything is written."""

    to: Target
    deals: int  # open deals that move
    closed: int  # chosen but won or lost: they stay whose they were (the numbers too)
    already: int  # already `to`'s
    tasks: int  # the moving deals' open tasks their owner held, which go along (if asked)


async def plan_reassign(
    session: AsyncSession, shown: DealFilter, *, to: int, with_tasks: bool, by: Actor
) -> ReassignPlan:
    target = await _target(session, to, by)
    chosen = _scoped(shown, by)
    is_open = _D.c.status == DealStatus.OPEN
    counts = sa.select(
        _count(sa.and_(is_open, _D.c.owner_id.is_distinct_from(target.id))),
        _count(_D.c.status != DealStatus.OPEN),
        _count(sa.and_(is_open, _D.c.owner_id == target.id)),
    ).where(_D.c.id.in_(matching(chosen)))
    deals, closed, already = (await session.execute(counts)).one()
    tasks = 0
    if with_tasks and deals:
        moving = matching(replace(chosen, status=DealStatus.OPEN)).where(
            Deal.owner_id.is_distinct_from(target.id)
        )
        stmt = (
            sa.select(sa.func.count())
            .select_from(_T.join(_D, _D.c.id == _T.c.deal_id))
            .where(_T.c.deal_id.in_(moving), _T.c.status == TaskStatus.OPEN)
            .where(_T.c.assignee_id == _D.c.owner_id)
        )
        tasks = (await session.execute(stmt)).scalar_one()
    return ReassignPlan(target, int(deals or 0), int(closed or 0), int(already or 0), tasks)


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


async def reassign(
    session: AsyncSession,
    shown: DealFilter,
    *,
    to: int,
    with_tasks: bool,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """Give the chosen open deals (and, `with_tasks`, their open tasks their owner held) to
    `to`, in the caller's transaction; the operation's id. Conflict, with nothing written,
    when the count is no longer the `expected` one the admin was shown."""
    target = await _target(session, to, by)
    now = company.clock.now()
    op_id = await _start(session, DEAL, REASSIGN, by, now, to_id=target.id, to_name=target.name)
    chosen = _scoped(replace(shown, status=DealStatus.OPEN), by)
    moving = (
        matching(chosen)
        .where(Deal.owner_id.is_distinct_from(target.id))
        .add_columns(Deal.owner_id, Deal.office_id)
        .with_for_update(of=Deal)  # PostgreSQL: what is read as "before" cannot change meanwhile
        .subquery()
    )
    rows = sa.select(_literal(op_id), sa.literal(DEAL), *moving.c)
    columns = ["operation_id", "entity_type", "entity_id", "holder_id", "office_id"]
    await session.execute(sa.insert(_R).from_select(columns, rows))
    count = await _rows(session, op_id, DEAL)
    if count != expected:
        raise Conflict(
            f"{count} deals match now, not {expected}", key="bulk.count_changed", count=count
        )
    if count == 0:
        raise Conflict("nothing to change", key="bulk.nothing")
    office = sa.func.coalesce(sa.literal(target.office_id, sa.BigInteger), _D.c.office_id)
    await session.execute(
        sa.update(_D)
        .where(_D.c.id.in_(_ids(op_id, DEAL)))
        .values(owner_id=target.id, office_id=office, updated_at=now)
    )
    tasks = 0
    if with_tasks:
        deal_rows = _R.alias("deal_rows")
        carried = (
            sa.select(_literal(op_id), sa.literal(TASK), _T.c.id, _T.c.assignee_id)
            .select_from(_T.join(deal_rows, deal_rows.c.entity_id == _T.c.deal_id))
            .where(deal_rows.c.operation_id == op_id, deal_rows.c.entity_type == DEAL)
            .where(_T.c.status == TaskStatus.OPEN, _T.c.assignee_id == deal_rows.c.holder_id)
        )
        await session.execute(sa.insert(_R).from_select(columns[:4], carried))
        await session.execute(
            sa.update(_T)
            .where(_T.c.id.in_(_ids(op_id, TASK)))
            .values(assignee_id=target.id, updated_at=now)
        )
        tasks = await _rows(session, op_id, TASK)
    await session.execute(
        sa.update(_OP)
        .where(_OP.c.id == op_id)
        .values(count=count, params={"to_id": target.id, "to_name": target.name, "tasks": tasks})
    )
    await audit.log(
        session,
        action="bulk.deals_reassigned",
        entity_type="bulk",
        entity_id=op_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        count=count,
        tasks=tasks,
        to=target.name,
    )
    shares = sa.select(_R.c.holder_id, _R.c.entity_type).where(_R.c.operation_id == op_id)
    await _tell(session, op_id, (await session.execute(shares)).all(), target.id, by, company)
    return op_id


def _literal(value: int) -> sa.ColumnElement[int]:
    return sa.literal(value, sa.BigInteger)


async def _start(
    session: AsyncSession, entity_type: str, action: str, by: Actor, now: datetime, **params: Any
) -> int:
    stmt = (
        sa.insert(_OP)
        .values(
            at=now,
            actor_id=by.id,
            entity_type=entity_type,
            action=action,
            count=0,
            params=params,
            undo_until=now + UNDO_FOR,
        )
        .returning(_OP.c.id)
    )
    return (await session.execute(stmt)).scalar_one()


def _ids(op_id: int, entity_type: str) -> sa.Select[tuple[int]]:
    return sa.select(_R.c.entity_id).where(
        _R.c.operation_id == op_id, _R.c.entity_type == entity_type
    )


async def _rows(session: AsyncSession, op_id: int, entity_type: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(_ids(op_id, entity_type).subquery())
    return (await session.execute(stmt)).scalar_one()


@dataclass(frozen=True)
class Undone:
    deals: int  # given back
    deals_kept: int  # changed since (another owner, closed): left as they are
    tasks: int
    tasks_kept: int


async def undo(session: AsyncSession, op_id: int, *, by: Actor, company: Company) -> Undone:
    """Put back what operation `op_id` changed and what nobody has changed since."""
    op = await session.get(BulkOperation, op_id, with_for_update=True)
    if op is None or not _may_see(op, by):
        raise NotFound(f"no bulk operation {op_id}", key="web.not_found")
    now = company.clock.now()
    if op.undone_at is not None:
        raise Conflict("already undone", key="bulk.already_undone")
    if now >= op.undo_until:
        raise Conflict("too late to undo", key="bulk.undo_expired")
    to = int(op.params["to_id"])
    deals = await _put_back(session, op_id, DEAL, _D.c.owner_id, to, now)
    tasks = await _put_back(session, op_id, TASK, _T.c.assignee_id, to, now)
    op.undone_at, op.undone_by_id = now, by.id
    carried = int(op.params.get("tasks", 0))
    result = Undone(len(deals), op.count - len(deals), len(tasks), carried - len(tasks))
    await audit.log(
        session,
        action="bulk.undone",
        entity_type="bulk",
        entity_id=op_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        deals=result.deals,
        deals_kept=result.deals_kept,
        tasks=result.tasks,
        tasks_kept=result.tasks_kept,
    )
    shares = [(h, DEAL) for h in deals] + [(h, TASK) for h in tasks]
    await _tell(session, op_id, shares, to, by, company, undo=True)
    return result


async def _put_back(
    session: AsyncSession,
    op_id: int,
    entity_type: str,
    holder: sa.Column[Any],
    to: int,
    now: datetime,
) -> list[int | None]:
    """The operation's records of `entity_type` that are still open and still `to`'s get
    their values back; whose they are again, one entry per record."""
    table = holder.table
    before = sa.select(_R).where(
        _R.c.operation_id == op_id,
        _R.c.entity_type == entity_type,
        _R.c.entity_id == table.c.id,
    )
    values: dict[str, Any] = {
        holder.name: before.with_only_columns(_R.c.holder_id).scalar_subquery()
    }
    if table is _D:  # a deal goes back to its office too
        values["office_id"] = before.with_only_columns(_R.c.office_id).scalar_subquery()
    still_open = table.c.status == (DealStatus.OPEN if table is _D else TaskStatus.OPEN)
    stmt = (
        sa.update(table)
        .where(table.c.id.in_(_ids(op_id, entity_type)), holder == to, still_open)
        .values(**values, updated_at=now)
        .returning(holder)
    )
    return list((await session.execute(stmt)).scalars())


async def _tell(
    session: AsyncSession,
    op_id: int,
    moved: Sequence[tuple[int | None, str]],
    to: int,
    by: Actor,
    company: Company,
    *,
    undo: bool = False,
) -> None:
    """One Telegram message to each employee the operation (or its undo) moved records from
    or to, with how many: `moved` is (whose it was, or is again after undo; kind) a record."""
    lost: dict[int, dict[str, int]] = defaultdict(lambda: {DEAL: 0, TASK: 0})
    for holder_id, entity_type in moved:
        if holder_id is not None:
            lost[holder_id][entity_type] += 1
    gained = {DEAL: 0, TASK: 0}
    for _holder, entity_type in moved:
        gained[entity_type] += 1
    people = {to: gained, **{k: v for k, v in lost.items() if k != to}}
    e = Employee.__table__
    found = await session.execute(
        sa.select(e.c.id, e.c.telegram_id, e.c.locale, e.c.name).where(e.c.id.in_(people))
    )
    names = {}
    recipients = []
    for row in found.all():
        names[row.id] = row.name
        recipients.append(row)
    messages = []
    for person in recipients:
        if person.telegram_id is None:
            continue
        share = people[person.id]
        event = (
            ("taken_back" if undo else "given")
            if person.id == to
            else ("given_back" if undo else "taken")
        )
        messages.append(
            outbox.Outgoing(
                channel=Channel.TELEGRAM,
                recipient=person.telegram_id,
                kind=SUMMARY,
                payload={
                    "operation_id": op_id,
                    "event": event,
                    "deals": share[DEAL],
                    "tasks": share[TASK],
                    "by": by.name,
                    "to": names.get(to, ""),
                },
                locale=person.locale or company.locale,
                dedupe_key=f"{SUMMARY}:{op_id}:{event}:{person.id}",
            )
        )
    await outbox.enqueue_many(session, messages, now=company.clock.now())


async def _target(session: AsyncSession, to: int, by: Actor) -> Target:
    if not access.can_change_in_bulk(by):
        raise AccessDenied("only admins and managers change records in bulk", key="web.not_found")
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.name, e.c.office_id).where(e.c.id == to, e.c.is_active)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound(f"no active employee {to}", key="bulk.no_such_employee")
    access.require_give_in_bulk(by, to_office_id=row.office_id)
    return Target(*row)


def _scoped(shown: DealFilter, by: Actor) -> DealFilter:
    """A manager's choice is always within their office, whatever the form said."""
    office = access.office_limit(by)
    return shown if office is None else replace(shown, office_id=office)


def _may_see(op: BulkOperation, by: Actor) -> bool:
    return access.can_see_bulk(by, actor_id=op.actor_id)


@dataclass(frozen=True)
class OperationView:
    id: int
    at: datetime
    action: str
    entity_type: str
    actor: str
    count: int
    params: dict[str, Any]
    undo_until: datetime
    undone_at: datetime | None
    undone_by: str | None
    undone: Undone | None  # what undo put back and kept (from its audit entry)

    def can_undo(self, now: datetime) -> bool:
        return self.undone_at is None and now < self.undo_until


async def operation(session: AsyncSession, op_id: int, *, by: Actor) -> OperationView:
    """One operation as its page shows it; NotFound for someone who may not see it."""
    found = await _views(session, by, op_id=op_id, limit=1)
    if not found:
        raise NotFound(f"no bulk operation {op_id}", key="web.not_found")
    return found[0]


async def recent(session: AsyncSession, *, by: Actor, limit: int = 50) -> list[OperationView]:
    """The newest operations `by` may see (their own; an admin's: everyone's)."""
    return await _views(session, by, limit=limit)


async def _views(
    session: AsyncSession, by: Actor, *, op_id: int | None = None, limit: int
) -> list[OperationView]:
    e = Employee.__table__
    actor, undoer = e.alias("actor"), e.alias("undoer")
    undone = AuditEntry.__table__.alias("undone")
    stmt = (
        sa.select(_OP, actor.c.name, undoer.c.name, undone.c.data)
        .join(actor, actor.c.id == _OP.c.actor_id)
        .outerjoin(undoer, undoer.c.id == _OP.c.undone_by_id)
        .outerjoin(
            undone,
            sa.and_(
                undone.c.entity_type == "bulk",
                undone.c.entity_id == _OP.c.id,
                undone.c.action == "bulk.undone",
            ),
        )
        .order_by(_OP.c.id.desc())
        .limit(limit)
    )
    if op_id is not None:
        stmt = stmt.where(_OP.c.id == op_id)
    if not access.sees_every_bulk(by):  # their own only
        stmt = stmt.where(_OP.c.actor_id == by.id)
    views = []
    for row in (await session.execute(stmt)).all():
        data = row[-1]
        views.append(
            OperationView(
                id=row.id,
                at=row.at,
                action=row.action,
                entity_type=row.entity_type,
                actor=row[-3],
                count=row.count,
                params=dict(row.params),
                undo_until=row.undo_until,
                undone_at=row.undone_at,
                undone_by=row[-2],
                undone=Undone(
                    data["deals"], data["deals_kept"], data["tasks"], data.get("tasks_kept", 0)
                )
                if data
                else None,
            )
        )
    return views
