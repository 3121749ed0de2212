"""The admin web's call list: calls matching a filter, newest or oldest first, a page at a
time by key (services.listing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from models import Call, CallStatus, Client, Direction, Employee
from services import listing

PAGE_SIZE = 50
_EMPLOYEE = aliased(Employee, name="answered_by")


class CallSort(StrEnum):
    NEWEST = "new"
    OLDEST = "old"


ORDERS = {
    CallSort.NEWEST: listing.Order(None, descending=True),
    CallSort.OLDEST: listing.Order(None, descending=False),
}


@dataclass(frozen=True)
class CallFilter:
    """Calls of an employee, of an office (the employee's), in or out, answered or missed,
    started from `since` to before `until`, with these digits in the client's number."""

    employee_id: int | None = None
    office_id: int | None = None
    direction: Direction | None = None
    status: CallStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    digits: str | None = None


def conditions(shown: CallFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if shown.employee_id is not None:
        found.append(Call.employee_id == shown.employee_id)
    if shown.direction is not None:
        found.append(Call.direction == shown.direction)
    if shown.status is not None:
        found.append(Call.status == shown.status)
    if shown.since is not None:
        found.append(Call.started_at >= shown.since)
    if shown.until is not None:
        found.append(Call.started_at < shown.until)
    digits = "".join(ch for ch in shown.digits or "" if ch.isdigit())
    if digits:
        found.append(Call.client_number.like(f"%{digits}%"))
    if shown.office_id is not None:
        staff = sa.select(Employee.id).where(Employee.office_id == shown.office_id)
        found.append(Call.employee_id.in_(staff))  # a call's office is its employee's
    return found


@dataclass(frozen=True)
class CallRow:
    id: int
    started_at: datetime | None
    direction: Direction
    status: CallStatus
    client_number: str | None
    client_id: int | None
    client: str | None
    employee: str | None
    talk_seconds: int
    has_recording: bool


async def page(
    session: AsyncSession,
    shown: CallFilter,
    *,
    sort: CallSort = CallSort.NEWEST,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> listing.Page[CallRow]:
    order = ORDERS[sort]
    window = listing.window(order, Call.id, conditions(shown), after, size)
    stmt = (
        sa.select(
            Call.id,
            Call.started_at,
            Call.direction,
            Call.status,
            Call.client_number,
            Call.client_id,
            Client.name,
            _EMPLOYEE.name,
            Call.talk_seconds,
            sa.or_(Call.recording_url.is_not(None), Call.recording_id.is_not(None)),
            window.c.sort_key,
        )
        .select_from(window)
        .join(Call, Call.id == window.c.id)
        .outerjoin(Client, Client.id == Call.client_id)
        .outerjoin(_EMPLOYEE, _EMPLOYEE.id == Call.employee_id)
        .order_by(*listing.in_order(window, order))
    )
    return await listing.fetch(session, stmt, order, size, CallRow)
