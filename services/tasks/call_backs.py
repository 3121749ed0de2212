""" "Call back" tasks opened by missed calls, closed by a call that got through."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Task, TaskKind, TaskStatus
from services import audit, notify
from services.clients.identities import format_phone


async def open_call_back(
    session: AsyncSession,
    *,
    client_id: int,
    call_id: int,
    lead_id: int | None,
    assignee_id: int | None,
    number: str | None,
    now: datetime,
    default_locale: str,
) -> int:
    """One open call-back task per client: a further missed call doesn't add another."""
    stmt = (
        sa.select(Task.id)
        .where(
            Task.client_id == client_id,
            Task.kind == TaskKind.CALL_BACK,
            Task.status == TaskStatus.OPEN,
        )
        .limit(1)
    )
    existing = (await session.execute(stmt)).scalar_one_or_none()
    if existing is not None:
        return existing
    task = Task(
        kind=TaskKind.CALL_BACK,
        title=format_phone(number) if number else "—",
        status=TaskStatus.OPEN,
        due_at=now,  # its card is its reminder: no remind_at
        assignee_id=assignee_id,
        client_id=client_id,
        lead_id=lead_id,
        call_id=call_id,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    await session.flush()
    await notify.task_assigned(
        session, task_id=task.id, assignee_id=assignee_id, now=now, default_locale=default_locale
    )
    return task.id


async def close_call_backs(
    session: AsyncSession,
    *,
    client_id: int,
    after: datetime | None,
    call_id: int,
    now: datetime,
) -> list[int]:
    """A call that got through after the missed one: its call-back tasks are done."""
    stmt = sa.select(Task).where(
        Task.client_id == client_id, Task.kind == TaskKind.CALL_BACK, Task.status == TaskStatus.OPEN
    )
    closed = []
    for task in (await session.execute(stmt)).scalars():
        if after is not None and task.created_at > after:
            continue  # opened by a later missed call: this call did not answer it
        task.status, task.done_at, task.updated_at = TaskStatus.DONE, now, now
        await audit.log(
            session,
            action="task.done_by_call",
            entity_type="task",
            entity_id=task.id,
            at=now,
            call_id=call_id,
        )
        closed.append(task.id)
    await session.flush()
    for task_id in closed:
        await notify.task_changed(session, task_id=task_id, now=now)
    return closed
