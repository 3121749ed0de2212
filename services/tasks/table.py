"""The admin web's task list: tasks matching a filter, sorted, a page at a time by key
(services.listing). The same filter says which tasks a bulk change (services.bulk) moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from models import Client, Employee, Task, TaskStatus
from models.text import folded
from services import listing
from services.clients.matching import searchable

PAGE_SIZE = 50
_ASSIGNEE = aliased(Employee, name="assignee")


class TaskSort(StrEnum):
    NEWEST = "new"
    OLDEST = "old"
    DUE = "due"  # soonest due first


_DUE = sa.func.coalesce(Task.due_at, Task.created_at)
ORDERS = {
    TaskSort.NEWEST: listing.Order(None, descending=True),
    TaskSort.OLDEST: listing.Order(None, descending=False),
    TaskSort.DUE: listing.Order(_DUE, descending=False, read=listing.moment),
}


@dataclass(frozen=True)
class TaskFilter:
    """Tasks of an assignee, of an office (the assignee's), of a status, due from `since` to
    before `until`, overdue at `overdue_at`, with words in the title."""

    assignee_id: int | None = None
    office_id: int | None = None
    status: TaskStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    overdue_at: datetime | None = None
    text: str | None = None
    ids: tuple[int, ...] | None = None


def conditions(shown: TaskFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if shown.ids is not None:
        found.append(Task.id.in_(shown.ids))
    if shown.assignee_id is not None:
        found.append(Task.assignee_id == shown.assignee_id)
    if shown.status is not None:
        found.append(Task.status == shown.status)
    if shown.since is not None:
        found.append(Task.due_at >= shown.since)
    if shown.until is not None:
        found.append(Task.due_at < shown.until)
    if shown.overdue_at is not None:
        found += [Task.status == TaskStatus.OPEN, Task.due_at < shown.overdue_at]
    if shown.text and shown.text.strip():
        words = f"%{listing.escaped(searchable(shown.text))}%"
        found.append(folded(Task.title).like(words, escape="\\"))
    if shown.office_id is not None:
        staff = sa.select(Employee.id).where(Employee.office_id == shown.office_id)
        found.append(Task.assignee_id.in_(staff))  # a task's office is its assignee's
    return found


def matching(shown: TaskFilter) -> sa.Select[tuple[int]]:
    return sa.select(Task.id).where(*conditions(shown))


@dataclass(frozen=True)
class TaskRow:
    id: int
    title: str
    status: TaskStatus
    due_at: datetime | None
    assignee: str | None
    client_id: int | None
    client: str | None
    deal_id: int | None


async def page(
    session: AsyncSession,
    shown: TaskFilter,
    *,
    sort: TaskSort = TaskSort.NEWEST,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> listing.Page[TaskRow]:
    order = ORDERS[sort]
    window = listing.window(order, Task.id, conditions(shown), after, size)
    stmt = (
        sa.select(
            Task.id,
            Task.title,
            Task.status,
            Task.due_at,
            _ASSIGNEE.name,
            Task.client_id,
            Client.name,
            Task.deal_id,
            window.c.sort_key,
        )
        .select_from(window)
        .join(Task, Task.id == window.c.id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Task.assignee_id)
        .outerjoin(Client, Client.id == Task.client_id)
        .order_by(*listing.in_order(window, order))
    )
    return await listing.fetch(session, stmt, order, size, TaskRow)
