"""Deleting deals, tasks or clients in bulk (test deals, duplicates, junk): counted first,
applied in one transaction, undone for 24 hours (services.bulk.engine).

A deleted record leaves its table, with what hangs on it, into the operation's trash
(services.bulk.trash): a deal with its stage moves, its tasks and the notes on it or on them;
a task with its notes; a client with everything of theirs (services.bulk.deleting_clients). So
it is gone from every list, search, card, reminder and report at once, with no query anywhere
left to forget a "deleted" flag; the reports' roll-ups are told by the same triggers that see
any deleted row. A ticket about a deleted deal stays, without the link. Undo puts everything
back as it was (the trash's rules: the same ids where they are free; what cannot come back,
because what it hung on is gone meanwhile, stays deleted and is counted as kept). Once the
undo window has passed, the `empty_bulk_trash` job forgets the trash for good."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
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
from services.actors import Actor
from services.bulk import deleting_clients, engine, trash, undoing
from services.bulk.engine import Chosen
from services.bulk.undoing import Undone
from services.context import Company

DELETE = "delete"
UNLINKED = "tickets:deal_id"  # the trash's rows of tickets a deleted deal was taken from
_D, _T, _N, _S = Deal.__table__, Task.__table__, Note.__table__, DealStageChange.__table__
_TICKETS, _TRASH, _OP = Ticket.__table__, BulkTrash.__table__, BulkOperation.__table__


@dataclass(frozen=True)
class DeletePlan:
    kind: str  # "deal" or "task": what is chosen
    count: int  # chosen records that go
    along: dict[str, int]  # what goes with them: tasks, notes
    unlinked: int  # tickets that stay, without the link to a deleted deal


_TABLES = {"deal": _D, "task": _T, "client": Client.__table__}


async def plan(session: AsyncSession, kind: str, chosen: Chosen) -> DeletePlan:
    count = sa.select(sa.func.count())
    if kind == "client":
        clients, along = await deleting_clients.plan(session, chosen)
        return DeletePlan(kind, clients, along, 0)
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
    if kind == "client":
        counts, owners = await deleting_clients.take(session, op_id, ids)
        taken.counts.update(counts)
        for who, n in owners.items():
            taken.whose.setdefault(who, Counter())["client"] += n
    for chunk in trash.chunks(ids if kind != "client" else []):
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
        {"operation_id": op_id, "table_name": UNLINKED, "row_id": ticket_id}
        | {"data": {"deal_id": deal_id}}
        for ticket_id, deal_id in linked.all()
    ]
    if unlinked:
        await session.execute(sa.insert(_TRASH), unlinked)
        await session.execute(
            sa.update(_TICKETS).where(_TICKETS.c.deal_id.in_(chunk)).values(deal_id=None)
        )
    await _take_tasks(session, op_id, _T.c.deal_id.in_(chunk), [_N.c.deal_id.in_(chunk)], taken)
    await trash.put_in(session, op_id, _S, await trash.rows(session, _S, _S.c.deal_id.in_(chunk)))
    deals = await trash.rows(session, _D, _D.c.id.in_(chunk))
    await trash.put_in(session, op_id, _D, deals)
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
    notes = await trash.rows(  # first: they point at the tasks (a subquery: any number of them)
        session, _N, sa.or_(*other_notes, _N.c.task_id.in_(sa.select(_T.c.id).where(which)))
    )
    await trash.put_in(session, op_id, _N, notes)
    taken.counts.update(note=len(notes))
    tasks = await trash.rows(session, _T, which)
    await trash.put_in(session, op_id, _T, tasks)
    for row in tasks:
        if row["status"] == TaskStatus.OPEN:  # a closed one reminds nobody: nobody misses it
            taken.held(row["assignee_id"], "task")
    taken.counts.update(task=len(tasks))


async def _undo(
    session: AsyncSession, op: BulkOperation, _by: Actor, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    """Everything the operation took out goes back (parents first, each child's links
    following what came back), tickets get their link again; the trash is emptied. A row
    whose parent is gone meanwhile (a deal's client, a task's deal deleted since) stays out,
    with what hangs on it."""
    kept = await trash.taken_out(session, op.id)
    back = trash.Back(session, kept)
    for table in deleting_clients.tables():  # parents first
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
    holders = (("client", _TABLES["client"], "owner_id"), ("deal", _D, "owner_id"))
    for kind, table, holder in (*holders, ("task", _T, "assignee_id")):
        came = back.ids.get(table.name, {})
        for row in _counted(kind, kept.get(table.name, [])):
            if row["id"] in came and row[holder] is not None:
                whose.setdefault(row[holder], Counter())[kind] += 1
    told = {who: ("restored", dict(counts)) for who, counts in whose.items()}
    kind = op.entity_type
    rows = kept.get(_TABLES[kind].name, [])
    if kind == "client":  # a merged card came back with the client it is part of
        rows = _counted(kind, rows)
    restored = sum(row["id"] in back.ids.get(_TABLES[kind].name, {}) for row in rows)
    return Undone({kind: restored}, {kind: len(rows) - restored}), told, {}


def _counted(kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows people are told about: open tasks, clients that are not a merged card."""
    if kind == "task":
        return [row for row in rows if row["status"] == TaskStatus.OPEN.value]
    if kind == "client":
        return [row for row in rows if row.get("merged_into_id") is None]
    return rows


async def _unlinked(session: AsyncSession, op_id: int) -> list[tuple[int, dict[str, Any]]]:
    found = await session.execute(
        sa.select(_TRASH.c.row_id, _TRASH.c.data).where(
            _TRASH.c.operation_id == op_id, _TRASH.c.table_name == UNLINKED
        )
    )
    return [(row_id, data) for row_id, data in found.all()]


undoing.UNDOERS[DELETE] = _undo
