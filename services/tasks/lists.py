"""Task lists in Telegram, a page at a time: mine for today, overdue, this week; for managers,
the office's overdue tasks (admins: every office's). Open tasks only, soonest due first; "today"
and "this week" are days in the viewer's time zone. Each page is one query on
`ix_tasks_assignee_status_due` that also counts the whole list."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Client, Employee, Role, Task, TaskStatus
from services.access import HasRole
from services.errors import AccessDenied

PAGE_SIZE = 8


class TaskView(enum.StrEnum):
    TODAY = "today"
    OVERDUE = "overdue"
    WEEK = "week"
    OFFICE_OVERDUE = "office"  # managers and admins


@dataclass(frozen=True)
class TaskItem:
    id: int
    title: str
    due_at: datetime | None
    client: str | None
    assignee: str | None


@dataclass(frozen=True)
class TaskPage:
    view: TaskView
    items: list[TaskItem]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max((self.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def can_see_office(by: HasRole) -> bool:
    return by.role in (Role.MANAGER, Role.ADMIN)


async def page_of(
    session: AsyncSession,
    view: TaskView,
    *,
    by: HasRole,
    now: datetime,
    tz: tzinfo,
    page: int = 0,
) -> TaskPage:
    t, e, c = Task.__table__, Employee.__table__, Client.__table__
    conditions = [t.c.status == TaskStatus.OPEN]
    local = now.astimezone(tz)
    today = datetime.combine(local.date(), time(), tzinfo=tz)
    if view is TaskView.OFFICE_OVERDUE:
        if not can_see_office(by):
            raise AccessDenied("only managers see the office's tasks", key="task.error.no_office")
        conditions.append(t.c.due_at < now)
        if by.role is not Role.ADMIN and by.office_id is not None:
            conditions.append(e.c.office_id == by.office_id)
    else:
        conditions.append(t.c.assignee_id == by.id)
        if view is TaskView.OVERDUE:
            conditions.append(t.c.due_at < now)
        elif view is TaskView.TODAY:
            conditions += [t.c.due_at >= today, t.c.due_at < today + timedelta(days=1)]
        else:
            monday = today - timedelta(days=local.weekday())
            conditions += [t.c.due_at >= today, t.c.due_at < monday + timedelta(days=7)]
    stmt = (
        sa.select(
            t.c.id,
            t.c.title,
            t.c.due_at,
            c.c.name.label("client"),
            e.c.name.label("assignee"),
            sa.func.count().over().label("total"),
        )
        .select_from(
            t.outerjoin(e, e.c.id == t.c.assignee_id).outerjoin(c, c.c.id == t.c.client_id)
        )
        .where(*conditions)
        .order_by(t.c.due_at, t.c.id)
    )
    page = max(page, 0)
    rows = (await session.execute(stmt.offset(page * PAGE_SIZE).limit(PAGE_SIZE))).all()
    if not rows and page > 0:  # the list shrank meanwhile: its last page
        return await page_of(session, view, by=by, now=now, tz=tz, page=0)
    items = [TaskItem(r.id, r.title, r.due_at, r.client, r.assignee) for r in rows]
    return TaskPage(view, items, rows[0].total if rows else 0, page)
