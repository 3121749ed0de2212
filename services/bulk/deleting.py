"""Deleting deals in bulk (test deals, duplicates, junk): counted first, applied in one
transaction, undone for 24 hours (services.bulk.engine).

A deleted deal leaves its table, with what hangs on it (its stage moves, its tasks, the notes on
it or on those tasks), into the operation's trash (`bulk_trash`, every column as JSON). So it is
gone from every list, search, card, reminder and report at once, with no query anywhere left
to forget a "deleted" flag; the reports' roll-ups are told by the same triggers that see any
deleted row. A ticket about a deleted deal stays, without the link. Undo puts everything back
as it was, with the same ids; a row whose id a new one took meanwhile (SQLite hands out the
highest id again) comes back under a new id, and what hangs on it follows. A deal whose client
is gone meanwhile stays deleted and is counted as kept. Once the undo window has passed, the
`empty_bulk_trash` job forgets the trash for good (`empty_trash`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BulkOperation,
    BulkTrash,
    Deal,
    DealStageChange,
    Note,
    Task,
    TaskStatus,
    Ticket,
)
from models.base import UTCDateTime
from services.actors import Actor
from services.bulk import engine, undoing
from services.bulk.engine import Chosen
from services.bulk.undoing import Undone
from services.context import Company

DELETE = "delete"
CHUNK = 5000  # ids bound in one statement
_D, _T, _N, _S = Deal.__table__, Task.__table__, Note.__table__, DealStageChange.__table__
_TICKETS, _TRASH, _OP = Ticket.__table__, BulkTrash.__table__, BulkOperation.__table__


@dataclass(frozen=True)
class DeletePlan:
    kind: str  # "deal" or "task": what is chosen
    count: int  # chosen records that go
    along: dict[str, int]  # what goes with them: tasks, notes
    unlinked: int  # tickets that stay, without the link to a deleted deal


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


_TABLES = {"deal": _D, "task": _T}


async def plan(session: AsyncSession, kind: str, chosen: Chosen) -> DeletePlan:
    count = sa.select(sa.func.count())
    if kind == "task":
        tasks = sa.select(_T.c.id).where(_T.c.id.in_(chosen))
        found = await session.execute(
            sa.select(
                count.select_from(tasks.subquery()).scalar_subquery(),
                count.where(_N.c.task_id.in_(tasks)).select_from(_N).scalar_subquery(),
            )
        )
        n_tasks, n_notes = found.one()
        return DeletePlan(kind, int(n_tasks), {"note": int(n_notes)}, 0)
    deals = sa.select(_D.c.id).where(_D.c.id.in_(chosen))
    tasks = sa.select(_T.c.id).where(_T.c.deal_id.in_(deals))
    found = await session.execute(
        sa.select(
            count.select_from(deals.subquery()).scalar_subquery(),
            count.select_from(tasks.subquery()).scalar_subquery(),
            count.where(sa.or_(_N.c.deal_id.in_(deals), _N.c.task_id.in_(tasks)))
            .select_from(_N)
            .scalar_subquery(),
            count.where(_TICKETS.c.deal_id.in_(deals)).select_from(_TICKETS).scalar_subquery(),
        )
    )
    n_deals, n_tasks, n_notes, n_tickets = found.one()
    along = {"task": int(n_tasks), "note": int(n_notes)}
    return DeletePlan(kind, int(n_deals), along, int(n_tickets))


@dataclass
class _Taken:
    """What one operation took out so far: counts by kind, and whose it was (to tell them)."""

    counts: Counter[str] = field(default_factory=Counter)
    whose: dict[int, Counter[str]] = field(default_factory=dict)

    def held(self, who: int | None, kind: str) -> None:
        if who is not None:
            self.whose.setdefault(who, Counter())[kind] += 1


async def apply(
    session: AsyncSession,
    kind: str,
    chosen: Chosen,
    *,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """Move the chosen deals (or tasks) and what hangs on them into the trash; the
    operation's id. Conflict, with nothing written, when the count is no longer the
    `expected` one."""
    now = company.clock.now()
    table = _TABLES[kind]
    ids = list(
        (
            await session.execute(
                sa.select(table.c.id)
                .where(table.c.id.in_(chosen))
                .order_by(table.c.id)
                .with_for_update()
            )
        ).scalars()
    )
    count = engine.as_counted(len(ids), expected)
    op_id = await engine.start(session, kind, by, now, action=DELETE)
    taken = _Taken()
    for chunk in _chunks(ids):
        if kind == "deal":
            await _take_deals(session, op_id, chunk, taken)
        else:
            await _take_tasks(session, op_id, _T.c.id.in_(chunk), [], taken)
    counts = dict(taken.counts)
    await engine.finish(
        session,
        op_id,
        action=f"bulk.{kind}s_deleted",
        count=count,
        params={"counts": counts},
        by=by,
        now=now,
        counts=counts,
    )
    told = {who: ("deleted", dict(counts)) for who, counts in taken.whose.items()}
    await engine.tell(session, op_id, told, by, company)
    return op_id


async def _take_deals(session: AsyncSession, op_id: int, chunk: list[int], taken: _Taken) -> None:
    """Deals, with their tasks (and the notes on them), their stage moves and notes; the
    tickets about them stay, unlinked (the link kept in the trash)."""
    linked = await session.execute(
        sa.select(_TICKETS.c.id, _TICKETS.c.deal_id).where(_TICKETS.c.deal_id.in_(chunk))
    )
    unlinked = [
        {"operation_id": op_id, "table_name": _TICKETS.name, "row_id": ticket_id}
        | {"data": {"deal_id": deal_id}}
        for ticket_id, deal_id in linked.all()
    ]
    if unlinked:
        await session.execute(sa.insert(_TRASH), unlinked)
        await session.execute(
            sa.update(_TICKETS).where(_TICKETS.c.deal_id.in_(chunk)).values(deal_id=None)
        )
    await _take_tasks(session, op_id, _T.c.deal_id.in_(chunk), [_N.c.deal_id.in_(chunk)], taken)
    await _trash(session, op_id, _S, await _rows(session, _S, _S.c.deal_id.in_(chunk)))
    deals = await _rows(session, _D, _D.c.id.in_(chunk))
    await _trash(session, op_id, _D, deals)
    for row in deals:
        taken.held(row["owner_id"], "deal")
    taken.counts.update(deal=len(deals), ticket=len(unlinked))


async def _take_tasks(
    session: AsyncSession,
    op_id: int,
    which: sa.ColumnElement[bool],
    other_notes: list[sa.ColumnElement[bool]],
    taken: _Taken,
) -> None:
    """Tasks, with the notes on them (and the notes `other_notes` picks: a deal's)."""
    notes = await _rows(  # first: they point at the tasks (a subquery: any number of them)
        session, _N, sa.or_(*other_notes, _N.c.task_id.in_(sa.select(_T.c.id).where(which)))
    )
    await _trash(session, op_id, _N, notes)
    taken.counts.update(note=len(notes))
    tasks = await _rows(session, _T, which)
    await _trash(session, op_id, _T, tasks)
    for row in tasks:
        if row["status"] == TaskStatus.OPEN:  # a closed one reminds nobody: nobody misses it
            taken.held(row["assignee_id"], "task")
    taken.counts.update(task=len(tasks))


async def _rows(
    session: AsyncSession, table: sa.Table, where: sa.ColumnElement[bool]
) -> list[dict[str, Any]]:
    found = await session.execute(sa.select(table).where(where).order_by(table.c.id))
    return [dict(row._mapping) for row in found.all()]


async def _trash(
    session: AsyncSession, op_id: int, table: sa.Table, rows: list[dict[str, Any]]
) -> None:
    """Keep the rows in the operation's trash and take them out of their table."""
    if not rows:
        return
    await session.execute(
        sa.insert(_TRASH),
        [
            {"operation_id": op_id, "table_name": table.name, "row_id": row["id"]}
            | {"data": {name: _plain(value) for name, value in row.items()}}
            for row in rows
        ],
    )
    for chunk in _chunks([row["id"] for row in rows]):
        await session.execute(sa.delete(table).where(table.c.id.in_(chunk)))


def _plain(value: Any) -> Any:
    """A column's value as JSON keeps it (read back by the column's type: `_typed`)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _typed(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, UTCDateTime | sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal(value)
    if isinstance(kind, sa.Enum) and kind.enum_class is not None:
        return kind.enum_class(value)
    return value


async def _undo(
    session: AsyncSession, op: BulkOperation, _by: Actor, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    """Everything the operation took out goes back (parents first, each child's links
    following what came back), tickets get their link again; the trash is emptied. A row
    whose parent is gone meanwhile (a deal's client, a task's deal deleted since) stays out,
    with what hangs on it."""
    trash = await session.execute(
        sa.select(_TRASH.c.table_name, _TRASH.c.data)
        .where(_TRASH.c.operation_id == op.id)
        .order_by(_TRASH.c.table_name, _TRASH.c.row_id)
    )
    kept: dict[str, list[dict[str, Any]]] = {}  # taken out, by table (tickets: unlinked only)
    for table_name, data in trash.all():
        if table_name != _TICKETS.name:
            kept.setdefault(table_name, []).append(data)
    back = _Back(session, {name: {r["id"] for r in rows} for name, rows in kept.items()})
    for table in (_D, _S, _T, _N):  # parents first
        await back.put(table, kept.get(table.name, []))
    deals = back.ids.get(_D.name, {})
    relinked = [
        {"i": ticket_id, "d": deals[data["deal_id"]]}
        for ticket_id, data in await _unlinked(session, op.id)
        if data["deal_id"] in deals
    ]
    if relinked:
        await session.execute(
            sa.update(_TICKETS)
            .where(_TICKETS.c.id == sa.bindparam("i"), _TICKETS.c.deal_id.is_(None))
            .values(deal_id=sa.bindparam("d")),
            relinked,
        )
    await session.execute(sa.delete(_TRASH).where(_TRASH.c.operation_id == op.id))
    whose: dict[int, Counter[str]] = {}  # told as they were told of the delete
    for kind, table, holder in (("deal", _D, "owner_id"), ("task", _T, "assignee_id")):
        came = back.ids.get(table.name, {})
        for row in kept.get(table.name, []):
            counted = kind == "deal" or row["status"] == TaskStatus.OPEN.value
            if counted and row["id"] in came and row[holder] is not None:
                whose.setdefault(row[holder], Counter())[kind] += 1
    told = {who: ("restored", dict(counts)) for who, counts in whose.items()}
    kind = op.entity_type
    rows = kept.get(_TABLES[kind].name, [])
    restored = sum(row["id"] in back.ids.get(_TABLES[kind].name, {}) for row in rows)
    return Undone({kind: restored}, {kind: len(rows) - restored}), told, {}


async def _unlinked(session: AsyncSession, op_id: int) -> list[tuple[int, dict[str, Any]]]:
    found = await session.execute(
        sa.select(_TRASH.c.row_id, _TRASH.c.data).where(
            _TRASH.c.operation_id == op_id, _TRASH.c.table_name == _TICKETS.name
        )
    )
    return [(row_id, data) for row_id, data in found.all()]


async def _existing(session: AsyncSession, table: sa.Table, ids: list[int]) -> set[int]:
    return set(await session.scalars(sa.select(table.c.id).where(table.c.id.in_(ids))))


class _Back:
    """Rows going back into their tables, and the ids they came back under."""

    def __init__(self, session: AsyncSession, trashed: dict[str, set[int]]) -> None:
        self.session, self.trashed = session, trashed
        self.ids: dict[str, dict[int, int]] = {}  # table → old id → id now

    async def put(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert the rows again. A link to a row taken out with them follows it to its id
        now; a link to any other row must still find it: else the row stays out."""
        ready = [
            {name: _typed(table.c[name], v) for name, v in data.items() if name in table.c}
            for data in rows
        ]
        for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
            ready = await self._linked(ready, fk.parent.name, fk.column.table)
        mapped = self.ids.setdefault(table.name, {})
        taken: set[int] = set()
        for chunk in _chunks([row["id"] for row in ready]):
            taken |= await _existing(self.session, table, chunk)
        free = [row for row in ready if row["id"] not in taken]
        for start in range(0, len(free), 1000):
            await self.session.execute(sa.insert(table), free[start : start + 1000])
        mapped.update((row["id"], row["id"]) for row in free)
        for row in ready:
            if row["id"] in taken:  # a new row has its id now (SQLite reuses the highest)
                old = row.pop("id")
                made = await self.session.execute(
                    sa.insert(table).values(row).returning(table.c.id)
                )
                mapped[old] = made.scalar_one()

    async def _linked(
        self, rows: list[dict[str, Any]], column: str, parent: sa.Table
    ) -> list[dict[str, Any]]:
        """The rows whose `column` still finds its row of `parent`, pointed at its id now."""
        trashed = self.trashed.get(parent.name, set())
        back = self.ids.get(parent.name, {})
        elsewhere = sorted({r[column] for r in rows if r[column] is not None} - trashed)
        there: set[int] = set()
        for chunk in _chunks(elsewhere):
            there |= await _existing(self.session, parent, chunk)
        found = []
        for row in rows:
            old = row[column]
            if old is None or old in there:
                found.append(row)
            elif old in back:
                found.append({**row, column: back[old]})
        return found


undoing.UNDOERS[DELETE] = _undo


EMPTIED_PER_RUN = 20  # operations whose trash one run empties


async def empty_trash(session: AsyncSession, *, now: datetime) -> tuple[int, bool]:
    """Forget for good what bulk deletes took out once their undo window has passed (undo is
    refused from then on); (rows forgotten, whether more operations are waiting)."""
    ops = _OP.c
    expired = list(
        await session.scalars(
            sa.select(_TRASH.c.operation_id)
            .join(BulkOperation.__table__, ops.id == _TRASH.c.operation_id)
            .where(ops.undo_until <= now)
            .distinct()
            .order_by(_TRASH.c.operation_id)
            .limit(EMPTIED_PER_RUN)
        )
    )
    if not expired:
        return 0, False
    gone = await session.execute(sa.delete(_TRASH).where(_TRASH.c.operation_id.in_(expired)))
    return gone.rowcount or 0, len(expired) == EMPTIED_PER_RUN
