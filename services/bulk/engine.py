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

from models import BulkOperation, BulkOperationRow, Channel, Employee
from services import access, audit, listing, outbox
from services.actors import Actor
from services.bulk.kinds import CARRIED, Carried, Kind
from services.context import Company
from services.errors import Conflict, NotFound

UNDO_FOR = timedelta(hours=24)


SUMMARY = "bulk_summary"  # outbox kind: one employee's share of an operation


REASSIGN = "reassign"

# What follows records of a kind given to someone, after apply and after undo (the moved
# ids with whose they are now): services.bulk.following.
Follow = Callable[[AsyncSession, list[tuple[int, int | None]], Company], Awaitable[None]]
FOLLOW: dict[str, Follow] = {}


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
    params = {"to_id": target.id, "to_name": target.name, "counts": counts}
    action = f"bulk.{kind.name}s_reassigned"
    await finish(
        session,
        op_id,
        action=action,
        count=count,
        params=params,
        by=by,
        now=now,
        counts=counts,
        to=target.name,
    )
    moved = sa.select(_R.c.holder_id, _R.c.entity_type).where(_R.c.operation_id == op_id)
    await _tell(session, op_id, (await session.execute(moved)).all(), target.id, by, company)
    for name in counts:
        if name in FOLLOW:
            given = await session.scalars(ids(op_id, name))
            await FOLLOW[name](session, [(i, target.id) for i in given], company)
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


async def finish(
    session: AsyncSession,
    op_id: int,
    *,
    action: str,
    count: int,
    params: dict[str, Any],
    by: Actor,
    now: datetime,
    **audited: Any,
) -> None:
    """The operation's count and its own values (what its pages and undo read), and its audit
    entry (`action`, the count and `audited`)."""
    await session.execute(
        sa.update(_OP).where(_OP.c.id == op_id).values(count=count, params=params)
    )
    await audit.log(
        session,
        action=action,
        entity_type="bulk",
        entity_id=op_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        count=count,
        **audited,
    )


def ids(op_id: int, entity_type: str) -> sa.Select[tuple[int]]:
    return sa.select(_R.c.entity_id).where(
        _R.c.operation_id == op_id, _R.c.entity_type == entity_type
    )


async def count_rows(session: AsyncSession, op_id: int, entity_type: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(ids(op_id, entity_type).subquery())
    return (await session.execute(stmt)).scalar_one()


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
    access.require_bulk(by)
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.name, e.c.office_id).where(e.c.id == to, e.c.is_active)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound(f"no active employee {to}", key="bulk.no_such_employee")
    access.require_give_in_bulk(by, to_office_id=row.office_id)
    return Target(*row)
