"""A task for each chosen deal or client at once ("call every client of this list back by
Friday"): counted first, written in one transaction, each assignee told once, undone for 24
hours by cancelling the tasks still open (services.bulk.engine)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import BulkOperation, BulkOperationRow, Task, TaskKind, TaskStatus
from services import access
from services.actors import Actor
from services.bulk import engine, undoing
from services.bulk.engine import Chosen
from services.bulk.kinds import Kind
from services.bulk.undoing import Undone
from services.context import Company
from services.errors import InvalidInput
from services.tasks.work import clean_title

EACH = "tasks"
_T, _R = Task.__table__, BulkOperationRow.__table__


@dataclass(frozen=True)
class TaskPlan:
    tasks: int  # tasks that would be written
    unowned: int  # chosen records without an owner, when each owner gets the task: skipped
    closed: int  # closed deals or merged clients: skipped
    people: int  # how many people get tasks
    assignee: engine.Target | None  # one person for all, or None: each record's owner


def _assignee_of(kind: Kind, assignee: engine.Target | None) -> sa.ColumnElement[Any]:
    return kind.held_by if assignee is None else sa.literal(assignee.id, sa.BigInteger)


async def plan(
    session: AsyncSession, kind: Kind, chosen: Chosen, *, assignee_id: int | None, by: Actor
) -> TaskPlan:
    assignee = await _assignee(session, assignee_id, by)
    is_open = kind.is_open()
    has_owner = kind.held_by.is_not(None) if assignee is None else sa.true()
    counts = sa.select(
        engine.count_of(sa.and_(is_open, has_owner)),
        engine.count_of(sa.and_(is_open, sa.not_(has_owner))),
        engine.count_of(sa.not_(is_open)),
        sa.func.count(sa.distinct(sa.case((is_open, _assignee_of(kind, assignee))))),
    ).where(kind.id.in_(chosen))
    tasks, unowned, closed, people = (await session.execute(counts)).one()
    return TaskPlan(int(tasks), int(unowned), int(closed), int(people), assignee)


async def apply(
    session: AsyncSession,
    kind: Kind,
    chosen: Chosen,
    *,
    title: str,
    due_at: datetime,
    assignee_id: int | None,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """A task "title", due at `due_at`, for each chosen open record (for its owner, or for
    `assignee_id`); the operation's id."""
    if kind.name not in ("deal", "client"):
        raise InvalidInput(f"no task for each {kind.name}", key="web.not_found")
    text = clean_title(title)
    now = company.clock.now()
    if due_at <= now:
        raise InvalidInput("the due time has passed", key="task.error.past")
    assignee = await _assignee(session, assignee_id, by)
    op_id = await engine.start(
        session, "task", by, now, action=EACH, title=text, due=due_at.isoformat()
    )
    who = _assignee_of(kind, assignee)
    linked = (
        {"client_id": kind.id}
        if kind.name == "client"
        else {
            "client_id": kind.table.c.client_id,
            "deal_id": kind.id,
        }
    )
    source = sa.select(
        sa.literal(TaskKind.GENERAL, _T.c.kind.type),
        sa.literal(text, _T.c.title.type),
        sa.literal(TaskStatus.OPEN, _T.c.status.type),
        sa.literal(due_at, _T.c.due_at.type),
        sa.literal(due_at, _T.c.remind_at.type),
        who,
        sa.literal(by.id, sa.BigInteger),
        *linked.values(),
        sa.literal(0, sa.Integer),
        sa.literal(now, _T.c.created_at.type),
        sa.literal(now, _T.c.updated_at.type),
    ).where(kind.id.in_(chosen), kind.is_open(), who.is_not(None))
    columns = ["kind", "title", "status", "due_at", "remind_at", "assignee_id", "created_by_id"]
    columns += [*linked, "reminders_sent", "created_at", "updated_at"]
    made = await session.execute(
        sa.insert(_T).from_select(columns, source).returning(_T.c.id, _T.c.assignee_id)
    )
    written = made.all()
    engine.as_counted(len(written), expected)
    await session.execute(
        sa.insert(_R),
        [
            {"operation_id": op_id, "entity_type": "task", "entity_id": i, "holder_id": a}
            for i, a in written
        ],
    )
    counts = {"task": len(written)}
    params = {"title": text, "due": due_at.isoformat(), "counts": counts, "of": kind.name}
    await engine.finish(
        session,
        op_id,
        action="bulk.tasks_created",
        count=len(written),
        params=params,
        by=by,
        now=now,
        title=text,
        due=due_at.isoformat(),
    )
    people = Counter(a for _i, a in written)
    told = {person: ("tasks_given", {"task": n}) for person, n in people.items()}
    await engine.tell(session, op_id, told, by, company, title=text, due=due_at.isoformat())
    return op_id


async def _undo(
    session: AsyncSession, op: BulkOperation, _by: Actor, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    """The tasks still open and still their assignee's are cancelled (and will not remind);
    done or reassigned ones stay as they are."""
    stmt = (
        sa.update(_T)
        .where(_T.c.id.in_(engine.ids(op.id, "task")), _T.c.status == TaskStatus.OPEN)
        .where(  # not given to someone else since
            sa.tuple_(_T.c.id, _T.c.assignee_id).in_(
                sa.select(_R.c.entity_id, _R.c.holder_id).where(
                    _R.c.operation_id == op.id, _R.c.entity_type == "task"
                )
            )
        )
        .values(status=TaskStatus.CANCELLED, remind_at=None, updated_at=now)
        .returning(_T.c.assignee_id)
    )
    cancelled = list((await session.execute(stmt)).scalars())
    people = Counter(a for a in cancelled if a is not None)
    told = {person: ("tasks_cancelled", {"task": n}) for person, n in people.items()}
    undone = Undone({"task": len(cancelled)}, {"task": op.count - len(cancelled)})
    return undone, told, {"title": op.params.get("title", "")}


undoing.UNDOERS[EACH] = _undo


async def _assignee(
    session: AsyncSession, assignee_id: int | None, by: Actor
) -> engine.Target | None:
    """One person for every task (active; a manager's: of their office), or None: each
    record's owner (whom a manager could already reach through their office's records)."""
    access.require_bulk(by)
    return None if assignee_id is None else await engine.new_holder(session, assignee_id, by)
