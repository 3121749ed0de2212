"""How a bulk reassign is counted, applied and undone, whatever kind of record is chosen.

An operation is counted first (`plan`), then applied in one transaction (`apply`) that refuses
to go on if the count has changed since the admin saw it. What each record held before is kept
in `bulk_operation_rows`, so the whole operation can be undone for 24 hours (`undo`): undo
puts back only the records that are still open and still the new holder's, and says how many
were changed since and kept. Everyone whose records moved gets one summary in Telegram, not a
card per record. Every statement works on the set at once (INSERT … SELECT, UPDATE … WHERE id
IN), so ten thousand records take a handful of statements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, BulkOperation, BulkOperationRow, Channel, Employee
from services import access, audit, listing, outbox
from services.actors import Actor
from services.bulk.kinds import CARRIED, KINDS, Carried, Kind
from services.context import Company
from services.errors import AccessDenied, Conflict, NotFound

UNDO_FOR = timedelta(hours=24)
SUMMARY = "bulk_summary"  # outbox kind: one employee's share of an operation
REASSIGN = "reassign"

_R, _OP = BulkOperationRow.__table__, BulkOperation.__table__
Chosen = sa.Select[tuple[int]]  # the ids of the records chosen (a filter, or ticked rows)


@dataclass(frozen=True)
class Target:
    id: int
    name: str
    office_id: int | None


@dataclass(frozen=True)
class Plan:
    """What giving the chosen records to `to` would do, counted before anything is written."""

    kind: str
    to: Target
    moving: int  # open ones that move
    closed: int  # chosen but closed (a won deal, a merged client): they stay whose they were
    already: int  # already `to`'s
    carried: dict[str, int]  # what goes along, by kind (only the kinds asked for)


async def plan(
    session: AsyncSession, kind: Kind, chosen: Chosen, *, to: int, carry: Sequence[str], by: Actor
) -> Plan:
    target = await new_holder(session, to, by)
    t = kind.table
    counts = sa.select(
        count_of(sa.and_(kind.is_open(), kind.held_by.is_distinct_from(target.id))),
        count_of(sa.not_(kind.is_open())),
        count_of(sa.and_(kind.is_open(), kind.held_by == target.id)),
    ).where(kind.id.in_(chosen))
    moving, closed, already = (await session.execute(counts)).one()
    carried = {}
    for name in _carried(kind, carry):
        rule = CARRIED[kind.name][name]
        parent = t.alias("parent")
        stmt = (
            sa.select(sa.func.count())
            .select_from(rule.kind.table.join(parent, parent.c.id == rule.kind.table.c[rule.link]))
            .where(parent.c.id.in_(chosen), _open_alias(kind, parent))
            .where(parent.c[kind.holder].is_distinct_from(target.id))
            .where(_goes_along(rule, parent.c[kind.holder], target.id, by))
        )
        carried[name] = (await session.execute(stmt)).scalar_one() if moving else 0
    return Plan(kind.name, target, int(moving), int(closed), int(already), carried)


def count_of(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _open_alias(kind: Kind, alias: sa.Alias) -> sa.ColumnElement[bool]:
    """`kind.is_open()` for an alias of its table."""
    return sa.sql.util.ClauseAdapter(alias).traverse(kind.is_open())


def _goes_along(rule: Carried, parent_holder: Any, to: int, by: Actor) -> sa.ColumnElement[bool]:
    """A linked record that goes with the chosen one: open, held by the chosen one's holder
    (or, `unheld`, by nobody), not `to`'s already, and within a manager's office (a client's
    deal with another office stays there)."""
    child = rule.kind
    whose = child.held_by == parent_holder
    if rule.unheld:
        whose = sa.or_(whose, child.held_by.is_(None))
    found = [child.is_open(), whose, child.held_by.is_distinct_from(to)]
    office = access.office_limit(by)
    if office is not None and child.office is not None:
        found.append(listing.in_office(child.table.c[child.office], child.held_by, office))
    return sa.and_(*found)


def _carried(kind: Kind, carry: Sequence[str]) -> list[str]:
    return [name for name in CARRIED.get(kind.name, {}) if name in carry]


async def apply(
    session: AsyncSession,
    kind: Kind,
    chosen: Chosen,
    *,
    to: int,
    carry: Sequence[str],
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """Give the chosen open records (and what `carry` names goes along) to `to`, in the
    caller's transaction; the operation's id. Conflict, with nothing written, when the count
    is no longer the `expected` one the admin was shown."""
    target = await new_holder(session, to, by)
    now = company.clock.now()
    op_id = await start(session, kind.name, by, now, to_id=target.id, to_name=target.name)
    moving = (
        sa.select(kind.id, kind.held_by, _office(kind))
        .where(kind.id.in_(chosen), kind.is_open(), kind.held_by.is_distinct_from(target.id))
        .with_for_update(of=kind.table)  # PostgreSQL: "before" cannot change meanwhile
        .subquery()
    )
    await _record(session, op_id, kind, sa.select(*moving.c))
    count = as_counted(await count_rows(session, op_id, kind.name), expected)
    await _move(session, op_id, kind, target, now)
    counts = {kind.name: count}
    for name in _carried(kind, carry):
        rule = CARRIED[kind.name][name]
        child, parents = rule.kind, _R.alias("parents")
        goes = (
            sa.select(child.id, child.held_by, _office(child))
            .select_from(child.table.join(parents, parents.c.entity_id == child.table.c[rule.link]))
            .where(parents.c.operation_id == op_id, parents.c.entity_type == kind.name)
            .where(_goes_along(rule, parents.c.holder_id, target.id, by))
            .where(child.id.not_in(ids(op_id, child.name)))
            .with_for_update(of=child.table)
            .subquery()
        )
        await _record(session, op_id, child, sa.select(*goes.c))
        await _move(session, op_id, child, target, now)
        counts[name] = await count_rows(session, op_id, child.name)
    await session.execute(
        sa.update(_OP)
        .where(_OP.c.id == op_id)
        .values(count=count, params={"to_id": target.id, "to_name": target.name, "counts": counts})
    )
    await audit.log(
        session,
        action=f"bulk.{kind.name}s_reassigned",
        entity_type="bulk",
        entity_id=op_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        count=count,
        counts=counts,
        to=target.name,
    )
    moved = sa.select(_R.c.holder_id, _R.c.entity_type).where(_R.c.operation_id == op_id)
    await _tell(session, op_id, (await session.execute(moved)).all(), target.id, by, company)
    return op_id


def as_counted(count: int, expected: int) -> int:
    """`count` when it is what the person was shown and there is something to do; else a
    Conflict (the caller's transaction rolls back: nothing written)."""
    if count != expected:
        raise Conflict(f"{count} match now, not {expected}", key="bulk.count_changed", count=count)
    if count == 0:
        raise Conflict("nothing to change", key="bulk.nothing")
    return count


def _office(kind: Kind) -> sa.ColumnElement[Any]:
    if kind.office is None:
        return sa.cast(sa.null(), sa.BigInteger).label("office_id")
    return kind.table.c[kind.office]


async def _record(session: AsyncSession, op_id: int, kind: Kind, rows: sa.Select[Any]) -> None:
    """Keep (id, holder, office) of each record `rows` gives, as it is before the change."""
    inner = rows.subquery()
    values = sa.select(sa.literal(op_id, sa.BigInteger), sa.literal(kind.name), *inner.c)
    columns = ["operation_id", "entity_type", "entity_id", "holder_id", "office_id"]
    await session.execute(sa.insert(_R).from_select(columns, values))


async def _move(
    session: AsyncSession, op_id: int, kind: Kind, target: Target, now: datetime
) -> None:
    values: dict[str, Any] = {kind.holder: target.id, "updated_at": now}
    if kind.office is not None:  # a record goes to the new holder's office (if they have one)
        column = kind.table.c[kind.office]
        values[kind.office] = sa.func.coalesce(sa.literal(target.office_id, sa.BigInteger), column)
    await session.execute(
        sa.update(kind.table).where(kind.id.in_(ids(op_id, kind.name))).values(values)
    )


async def start(
    session: AsyncSession,
    entity_type: str,
    by: Actor,
    now: datetime,
    *,
    action: str = REASSIGN,
    **params: Any,
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


def ids(op_id: int, entity_type: str) -> sa.Select[tuple[int]]:
    return sa.select(_R.c.entity_id).where(
        _R.c.operation_id == op_id, _R.c.entity_type == entity_type
    )


async def count_rows(session: AsyncSession, op_id: int, entity_type: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(ids(op_id, entity_type).subquery())
    return (await session.execute(stmt)).scalar_one()


@dataclass(frozen=True)
class Undone:
    back: dict[str, int]  # put back, by kind
    kept: dict[str, int]  # changed since (another holder, closed): left as they are


# How an operation is undone, by its action: (session, operation, by, now) → what was put back
# and the summaries' (employee, event, counts); actions other than reassign register here.
Undoer = Callable[
    [AsyncSession, BulkOperation, Actor, datetime],
    Awaitable[tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]],
]
UNDOERS: dict[str, Undoer] = {}


async def undo(session: AsyncSession, op_id: int, *, by: Actor, company: Company) -> Undone:
    """Put back what operation `op_id` changed and what nobody has changed since."""
    op = await session.get(BulkOperation, op_id, with_for_update=True)
    if op is None or not access.can_see_bulk(by, actor_id=op.actor_id):
        raise NotFound(f"no bulk operation {op_id}", key="web.not_found")
    now = company.clock.now()
    if op.undone_at is not None:
        raise Conflict("already undone", key="bulk.already_undone")
    if now >= op.undo_until:
        raise Conflict("too late to undo", key="bulk.undo_expired")
    if op.action == REASSIGN:
        undone, told, extra = await _undo_reassign(session, op, now)
    else:
        undone, told, extra = await UNDOERS[op.action](session, op, by, now)
    op.undone_at, op.undone_by_id = now, by.id
    await audit.log(
        session,
        action="bulk.undone",
        entity_type="bulk",
        entity_id=op_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        back=undone.back,
        kept=undone.kept,
    )
    await tell(session, op_id, told, by, company, **extra)
    return undone


async def _undo_reassign(
    session: AsyncSession, op: BulkOperation, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    to, counts = int(op.params["to_id"]), dict(op.params["counts"])
    back, kept = {}, {}
    lost: dict[int, Counter[str]] = defaultdict(Counter)
    for name in counts:
        holders = await _put_back(session, op.id, KINDS[name], to, now)
        for holder in holders:
            if holder is not None:
                lost[holder][name] += 1
        back[name], kept[name] = len(holders), counts[name] - len(holders)
    told = {to: ("taken_back", back), **{k: ("given_back", dict(v)) for k, v in lost.items()}}
    return Undone(back, kept), told, {"to": to}


def _moved_later(op_id: int, entity_type: str) -> sa.Select[tuple[int]]:
    """Records of `entity_type` that a later bulk change, not undone, moved again."""
    later = _R.alias("later")
    return (
        sa.select(later.c.entity_id)
        .join(_OP, _OP.c.id == later.c.operation_id)
        .where(later.c.operation_id > op_id, later.c.entity_type == entity_type)
        .where(_OP.c.undone_at.is_(None))
    )


async def _put_back(
    session: AsyncSession, op_id: int, kind: Kind, to: int, now: datetime
) -> list[int | None]:
    """The operation's records of `kind` that are still open, still `to`'s, and not moved by a
    later bulk change (one that is not undone) get their values back; whose they are again,
    one entry per record."""
    before = sa.select(_R).where(
        _R.c.operation_id == op_id, _R.c.entity_type == kind.name, _R.c.entity_id == kind.id
    )
    values: dict[str, Any] = {
        kind.holder: before.with_only_columns(_R.c.holder_id).scalar_subquery(),
        "updated_at": now,
    }
    if kind.office is not None:
        values[kind.office] = before.with_only_columns(_R.c.office_id).scalar_subquery()
    stmt = (
        sa.update(kind.table)
        .where(kind.id.in_(ids(op_id, kind.name)), kind.held_by == to, kind.is_open())
        .where(kind.id.not_in(_moved_later(op_id, kind.name)))
        .values(values)
        .returning(kind.held_by)
    )
    return list((await session.execute(stmt)).scalars())


async def _tell(
    session: AsyncSession,
    op_id: int,
    moved: Sequence[tuple[int | None, str]],
    to: int,
    by: Actor,
    company: Company,
) -> None:
    """One Telegram message to each employee the operation moved records from or to, with how
    many of each kind: `moved` is (whose it was, its kind) per record."""
    lost: dict[int, Counter[str]] = defaultdict(Counter)
    for holder_id, kind in moved:
        if holder_id is not None and holder_id != to:
            lost[holder_id][kind] += 1
    gained = Counter(kind for _holder, kind in moved)
    told = {to: ("given", dict(gained)), **{k: ("taken", dict(v)) for k, v in lost.items()}}
    await tell(session, op_id, told, by, company, to=to)


async def tell(
    session: AsyncSession,
    op_id: int,
    told: Mapping[int, tuple[str, Mapping[str, int]]],
    by: Actor,
    company: Company,
    *,
    to: int | None = None,
    **extra: Any,
) -> None:
    """One summary in Telegram for each employee in `told` (id → event, counts by kind), in
    their language; `to` names the new holder in the texts, `extra` goes into every one."""
    e = Employee.__table__
    ids = {*told, *([to] if to is not None else [])}
    found = await session.execute(
        sa.select(e.c.id, e.c.telegram_id, e.c.locale, e.c.name).where(e.c.id.in_(ids))
    )
    people = {row.id: row for row in found.all()}
    to_name = people[to].name if to in people else ""
    messages = []
    for person_id, (event, counts) in told.items():
        person = people.get(person_id)
        if person is None or person.telegram_id is None or not any(counts.values()):
            continue
        messages.append(
            outbox.Outgoing(
                channel=Channel.TELEGRAM,
                recipient=person.telegram_id,
                kind=SUMMARY,
                payload={
                    "operation_id": op_id,
                    "event": event,
                    "counts": dict(counts),
                    "by": by.name,
                    "to": to_name,
                    **extra,
                },
                locale=person.locale or company.locale,
                dedupe_key=f"{SUMMARY}:{op_id}:{event}:{person_id}",
            )
        )
    await outbox.enqueue_many(session, messages, now=company.clock.now())


async def new_holder(session: AsyncSession, to: int, by: Actor) -> Target:
    if not access.can_change_in_bulk(by):
        raise AccessDenied("only admins and managers change records in bulk", key="web.not_found")
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.name, e.c.office_id).where(e.c.id == to, e.c.is_active)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound(f"no active employee {to}", key="bulk.no_such_employee")
    access.require_give_in_bulk(by, to_office_id=row.office_id)
    return Target(*row)


@dataclass(frozen=True)
class OperationView:
    id: int
    at: datetime
    action: str
    entity_type: str
    actor: str
    count: int
    counts: dict[str, int]  # what moved, by kind (the chosen and what went along)
    to_name: str
    params: dict[str, Any]  # the action's own (a stage's name)
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
        sa.select(
            _OP,
            actor.c.name.label("actor_name"),
            undoer.c.name.label("undoer_name"),
            undone.c.data.label("undo_data"),
        )
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
    return [
        OperationView(
            id=row.id,
            at=row.at,
            action=row.action,
            entity_type=row.entity_type,
            actor=row.actor_name,
            count=row.count,
            counts=dict(row.params.get("counts", {})),
            to_name=row.params.get("to_name", ""),
            params=dict(row.params),
            undo_until=row.undo_until,
            undone_at=row.undone_at,
            undone_by=row.undoer_name,
            undone=Undone(row.undo_data["back"], row.undo_data["kept"]) if row.undo_data else None,
        )
        for row in (await session.execute(stmt)).all()
    ]
