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
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BulkOperation,
    BulkTrash,
    Client,
    Deal,
    DealStageChange,
    Note,
    Task,
    TaskStatus,
    Ticket,
)
from models.base import UTCDateTime
from services import audit
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
    deals: int
    along: dict[str, int]  # what goes with them: tasks, notes
    unlinked: int  # tickets that stay, without the link


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


async def plan(session: AsyncSession, chosen: Chosen) -> DeletePlan:
    deals = sa.select(_D.c.id).where(_D.c.id.in_(chosen))
    tasks = sa.select(_T.c.id).where(_T.c.deal_id.in_(deals))
    count = sa.select(sa.func.count())
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
    return DeletePlan(int(n_deals), {"task": int(n_tasks), "note": int(n_notes)}, int(n_tickets))


async def apply(
    session: AsyncSession, chosen: Chosen, *, expected: int, by: Actor, company: Company
) -> int:
    """Move the chosen deals and what hangs on them into the trash; the operation's id.
    Conflict, with nothing written, when the count is no longer the `expected` one."""
    now = company.clock.now()
    ids = list(
        (
            await session.execute(
                sa.select(_D.c.id).where(_D.c.id.in_(chosen)).order_by(_D.c.id).with_for_update()
            )
        ).scalars()
    )
    count = engine.as_counted(len(ids), expected)
    op_id = await engine.start(session, "deal", by, now, action=DELETE)
    owners: Counter[int] = Counter()
    tasks_of: Counter[int] = Counter()
    counts: Counter[str] = Counter()
    for chunk in _chunks(ids):
        task_rows = await _rows(session, _T, _T.c.deal_id.in_(chunk))
        task_ids = [row["id"] for row in task_rows]
        notes = _N.c.deal_id.in_(chunk)
        if task_ids:
            notes = sa.or_(notes, _N.c.task_id.in_(task_ids))
        note_rows = await _rows(session, _N, notes)
        moves = await _rows(session, _S, _S.c.deal_id.in_(chunk))
        deal_rows = await _rows(session, _D, _D.c.id.in_(chunk))
        linked = await session.execute(
            sa.select(_TICKETS.c.id, _TICKETS.c.deal_id).where(_TICKETS.c.deal_id.in_(chunk))
        )
        unlinked = [
            {"operation_id": op_id, "table_name": "tickets", "row_id": ticket_id}
            | {"data": {"deal_id": deal_id}}
            for ticket_id, deal_id in linked.all()
        ]
        if unlinked:
            await session.execute(sa.insert(_TRASH), unlinked)
            await session.execute(
                sa.update(_TICKETS).where(_TICKETS.c.deal_id.in_(chunk)).values(deal_id=None)
            )
        for table, rows in ((_N, note_rows), (_S, moves), (_T, task_rows), (_D, deal_rows)):
            await _trash(session, op_id, table, rows)
        owners.update(row["owner_id"] for row in deal_rows if row["owner_id"] is not None)
        tasks_of.update(
            row["assignee_id"]
            for row in task_rows
            if row["assignee_id"] is not None and row["status"] == TaskStatus.OPEN
        )
        counts.update(deal=len(deal_rows), task=len(task_rows), note=len(note_rows))
        counts.update(ticket=len(unlinked))
    await session.execute(
        sa.update(BulkOperation.__table__)
        .where(BulkOperation.__table__.c.id == op_id)
        .values(count=count, params={"counts": dict(counts)})
    )
    await audit.log(
        session,
        action="bulk.deals_deleted",
        entity_type="bulk",
        entity_id=op_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        count=count,
        counts=dict(counts),
    )
    told = {
        who: ("deleted", {"deal": owners[who], "task": tasks_of[who]})
        for who in {*owners, *tasks_of}
    }
    await engine.tell(session, op_id, told, by, company)
    return op_id


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
    """Everything the operation took out goes back (parents first, each child's links mapped
    to what came back), tickets get their link again; the trash is emptied."""
    trash = await session.execute(
        sa.select(_TRASH.c.table_name, _TRASH.c.data)
        .where(_TRASH.c.operation_id == op.id)
        .order_by(_TRASH.c.table_name, _TRASH.c.row_id)
    )
    kept: dict[str, list[dict[str, Any]]] = {}  # taken out, by table (tickets: unlinked only)
    for table_name, data in trash.all():
        if table_name != _TICKETS.name:
            kept.setdefault(table_name, []).append(data)
    deals = kept.get(_D.name, [])
    clients = sorted({d["client_id"] for d in deals})
    alive = {
        c for chunk in _chunks(clients) for c in await _existing(session, Client.__table__, chunk)
    }
    back = _Back(session, {name: {r["id"] for r in rows} for name, rows in kept.items()})
    await back.put(_D, [d for d in deals if d["client_id"] in alive], {})
    await back.put(_S, kept.get(_S.name, []), {"deal_id": _D.name})
    await back.put(_T, kept.get(_T.name, []), {"deal_id": _D.name})
    await back.put(_N, kept.get(_N.name, []), {"deal_id": _D.name, "task_id": _T.name})
    relinked = [
        {"i": ticket_id, "d": back.ids[_D.name][data["deal_id"]]}
        for ticket_id, data in await _unlinked(session, op.id)
        if data["deal_id"] in back.ids[_D.name]
    ]
    if relinked:
        await session.execute(
            sa.update(_TICKETS)
            .where(_TICKETS.c.id == sa.bindparam("i"), _TICKETS.c.deal_id.is_(None))
            .values(deal_id=sa.bindparam("d")),
            relinked,
        )
    await session.execute(sa.delete(_TRASH).where(_TRASH.c.operation_id == op.id))
    restored = [d for d in deals if d["id"] in back.ids[_D.name]]
    owners = Counter(d["owner_id"] for d in restored if d["owner_id"] is not None)
    told = {who: ("restored", {"deal": n}) for who, n in owners.items()}
    undone = Undone({"deal": len(restored)}, {"deal": len(deals) - len(restored)})
    return undone, told, {}


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

    async def put(self, table: sa.Table, rows: list[dict[str, Any]], links: dict[str, str]) -> None:
        """Insert the rows again; a link to a trashed row follows it to its id now, and a row
        linked to one that did not come back stays out."""
        ready = []
        for data in rows:
            row = {name: _typed(table.c[name], v) for name, v in data.items() if name in table.c}
            if all(self._link(row, column, parent) for column, parent in links.items()):
                ready.append(row)
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

    def _link(self, row: dict[str, Any], column: str, parent: str) -> bool:
        old = row.get(column)
        if old is None or old not in self.trashed.get(parent, set()):
            return True  # not linked to anything taken out
        if old not in self.ids.get(parent, {}):
            return False
        row[column] = self.ids[parent][old]
        return True


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
