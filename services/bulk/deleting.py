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
from dataclasses import dataclass
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


# What goes with a record of each kind: its table and those hanging on it (services.bulk.trash
# follows the schema's foreign keys within them).
OWNED = {
    "deal": ("deals", "deal_stage_changes", "tasks", "notes"),
    "task": ("tasks", "notes"),
    "client": deleting_clients.OWNED,
}


async def apply(
    session: AsyncSession,
    kind: str,
    chosen: Chosen,
    *,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """Move the chosen records and what hangs on them into the trash; the operation's id.
    Conflict, with nothing written, when the count is no longer the `expected` one."""
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
    found = await trash.take_out(session, op_id, table, ids, OWNED[kind])
    counts = {
        COUNTED[name]: len(_told_of(name, rows)) if name == "clients" else len(rows)
        for name, rows in found.items()
        if name in COUNTED and rows
    }
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
    told = {who: ("deleted", dict(n)) for who, n in _whose(found).items()}
    await engine.tell(session, op_id, told, by, company)
    return op_id


COUNTED = deleting_clients.COUNTED
# Whose a record is, for the message each person gets (of the kinds people are told about).
_HOLDERS = {"clients": ("client", "owner_id"), "deals": ("deal", "owner_id")}
_HOLDERS["tasks"] = ("task", "assignee_id")


def _told_of(table_name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows people are told about: open tasks, clients that are not a merged card (it
    goes, and comes back, with the client it is part of)."""
    if table_name == "tasks":
        return [row for row in rows if row["status"] == TaskStatus.OPEN.value]
    if table_name == "clients":
        return [row for row in rows if row.get("merged_into_id") is None]
    return rows


def _whose(found: dict[str, list[dict[str, Any]]]) -> dict[int, Counter[str]]:
    whose: dict[int, Counter[str]] = {}
    for table_name, (kind, holder) in _HOLDERS.items():
        for row in _told_of(table_name, found.get(table_name, [])):
            if row[holder] is not None:
                whose.setdefault(row[holder], Counter())[kind] += 1
    return whose


async def _undo(
    session: AsyncSession, op: BulkOperation, _by: Actor, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    """Everything the operation took out goes back (services.bulk.trash's rules), the links
    it cut are set again, the trash is emptied; each person is told what came back."""
    kept = await trash.taken_out(session, op.id)
    back = trash.Back(session, kept)
    for table in trash.tables_of(OWNED[op.entity_type]):  # parents first
        await back.put(table, kept.get(table.name, []))
    await trash.relink(session, kept, back)
    await session.execute(sa.delete(_TRASH).where(_TRASH.c.operation_id == op.id))
    came = {
        name: [row for row in rows if row["id"] in back.ids.get(name, {})]
        for name, rows in kept.items()
        if ":" not in name and "id" in (rows[0] if rows else {})
    }
    told = {who: ("restored", dict(n)) for who, n in _whose(came).items()}
    name = _TABLES[op.entity_type].name
    chosen = kept.get(name, [])
    if name == "clients":  # a merged card came back with the client it is part of
        chosen = _told_of(name, chosen)
    restored = sum(row["id"] in back.ids.get(name, {}) for row in chosen)
    kind = op.entity_type
    return Undone({kind: restored}, {kind: len(chosen) - restored}), told, {}


undoing.UNDOERS[DELETE] = _undo
