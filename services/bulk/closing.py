"""Closing many tasks at once (done, or cancelled: a leaver's calls nobody will make):
counted first, applied in one transaction, undone for 24 hours (services.bulk.engine).

A closed task reminds nobody any more (reminders skip tasks that are not open); each
assignee gets one summary, not a message per task. Undo reopens the tasks that are still
as the operation left them (closed by it, at its moment)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import BulkOperation, BulkOperationRow, Task, TaskStatus
from services.actors import Actor
from services.bulk import engine, undoing
from services.bulk.engine import Chosen
from services.bulk.undoing import Undone
from services.context import Company
from services.errors import InvalidInput

CLOSE = "close"
CLOSING = (TaskStatus.DONE, TaskStatus.CANCELLED)
_T, _R = Task.__table__, BulkOperationRow.__table__


@dataclass(frozen=True)
class ClosePlan:
    status: TaskStatus  # what they become
    closing: int  # open ones: they close
    closed: int  # done or cancelled already: they stay


def _status(status: TaskStatus | str) -> TaskStatus:
    found = TaskStatus(status)
    if found not in CLOSING:
        raise InvalidInput("done or cancelled", key="bulk.choose_close")
    return found


async def plan(session: AsyncSession, chosen: Chosen, *, status: TaskStatus) -> ClosePlan:
    is_open = _T.c.status == TaskStatus.OPEN
    counts = sa.select(engine.count_of(is_open), engine.count_of(sa.not_(is_open))).where(
        _T.c.id.in_(chosen)
    )
    closing, closed = (await session.execute(counts)).one()
    return ClosePlan(_status(status), int(closing), int(closed))


async def apply(
    session: AsyncSession,
    chosen: Chosen,
    *,
    status: TaskStatus,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """Close the chosen open tasks as `status`; the operation's id. Conflict, with nothing
    written, when the count is no longer the `expected` one."""
    status = _status(status)
    now = company.clock.now()
    op_id = await engine.start(session, "task", by, now, action=CLOSE, status=str(status))
    closing = (
        sa.select(_T.c.id, _T.c.assignee_id, _T.c.status, _T.c.done_at)
        .where(_T.c.id.in_(chosen), _T.c.status == TaskStatus.OPEN)
        .with_for_update(of=_T)
        .subquery()
    )
    rows = sa.select(sa.literal(op_id, sa.BigInteger), sa.literal("task"), *closing.c)
    columns = ["operation_id", "entity_type", "entity_id", "holder_id", "status", "closed_at"]
    await session.execute(sa.insert(_R).from_select(columns, rows))
    count = engine.as_counted(await engine.count_rows(session, op_id, "task"), expected)
    await session.execute(
        sa.update(_T)
        .where(_T.c.id.in_(engine.ids(op_id, "task")))
        .values(status=status, done_at=now, updated_at=now)
    )
    params = {"status": str(status), "counts": {"task": count}}
    await engine.finish(
        session,
        op_id,
        action="bulk.tasks_closed",
        count=count,
        params=params,
        by=by,
        now=now,
        status=str(status),
    )
    held = (
        sa.select(_R.c.holder_id, sa.func.count())
        .where(_R.c.operation_id == op_id, _R.c.holder_id.is_not(None))
        .group_by(_R.c.holder_id)
    )
    told = {who: ("tasks_closed", {"task": n}) for who, n in (await session.execute(held)).all()}
    await engine.tell(session, op_id, told, by, company, status=str(status))
    return op_id


async def _undo(
    session: AsyncSession, op: BulkOperation, _by: Actor, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    """Tasks the operation closed that nobody reopened or changed since open again."""
    status = TaskStatus(op.params["status"])
    stmt = (
        sa.update(_T)
        .where(_T.c.id.in_(engine.ids(op.id, "task")))
        .where(_T.c.status == status, _T.c.done_at == op.at)
        .values(status=TaskStatus.OPEN, done_at=None, updated_at=now)
        .returning(_T.c.id, _T.c.assignee_id)
    )
    back = (await session.execute(stmt)).all()
    holders = Counter(who for _id, who in back if who is not None)
    told = {who: ("tasks_reopened", {"task": n}) for who, n in holders.items()}
    undone = Undone({"task": len(back)}, {"task": op.count - len(back)})
    return undone, told, {"status": str(status)}


undoing.UNDOERS[CLOSE] = _undo
