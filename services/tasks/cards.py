"""What a task card shows: the task, whose it is, its client, the latest comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Note, Task, TaskKind, TaskStatus
from services.clients import cards as client_cards
from services.clients import history
from services.clients.cards import ClientSummary
from services.errors import NotFound
from services.tasks.reminders import LATE_AFTER

COMMENTS = 3  # the newest comments on a card


@dataclass(frozen=True)
class Comment:
    at: datetime
    author: str | None
    text: str


@dataclass(frozen=True)
class TaskCard:
    task_id: int
    kind: TaskKind
    title: str
    status: TaskStatus
    due_at: datetime | None
    snoozed_until: datetime | None
    assignee_id: int | None
    assignee: str | None
    office_id: int | None  # the assignee's
    client: ClientSummary | None
    comments: list[Comment]


async def card(session: AsyncSession, task_id: int) -> TaskCard:
    task = await session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise NotFound("no such task", key="task.error.not_found", task_id=task_id)
    assignee = await session.get(Employee, task.assignee_id) if task.assignee_id else None
    client = None
    if task.client_id:
        event = await history.of_task(session, task)
        client = await client_cards.summary(session, task.client_id, leaving_out=event)
    n, e = Note.__table__, Employee.__table__
    newest = (
        sa.select(n.c.created_at, e.c.name, n.c.text)
        .select_from(n.outerjoin(e, e.c.id == n.c.author_id))
        .where(n.c.task_id == task.id)
        .order_by(n.c.id.desc())
        .limit(COMMENTS)
    )
    comments = [Comment(*row) for row in (await session.execute(newest)).all()]
    return TaskCard(
        task.id,
        task.kind,
        task.title,
        task.status,
        task.due_at,
        task.snoozed_until,
        task.assignee_id,
        assignee.name if assignee else None,
        assignee.office_id if assignee else None,
        client,
        comments[::-1],
    )


@dataclass(frozen=True)
class TaskLine:
    id: int
    title: str
    due_at: datetime | None
    status: TaskStatus
    late: bool  # its last reminder fired more than LATE_AFTER after its moment


async def lines(session: AsyncSession, task_ids: list[int]) -> list[TaskLine]:
    """The tasks of a digest of reminders, in the given order (missing ones left out)."""
    t = Task.__table__
    stmt = sa.select(
        t.c.id, t.c.title, t.c.due_at, t.c.status, t.c.reminded_at, t.c.snoozed_until
    ).where(t.c.id.in_(task_ids))
    found = {}
    for r in await session.execute(stmt):
        moments = [m for m in (r.due_at, r.snoozed_until) if m is not None]
        late = bool(r.reminded_at and moments and r.reminded_at - max(moments) > LATE_AFTER)
        found[r.id] = TaskLine(r.id, r.title, r.due_at, TaskStatus(r.status), late)
    return [found[i] for i in task_ids if i in found]
