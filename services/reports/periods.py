"""Report periods and scopes: a range of the company's days, and whose numbers.

A period is whole local days [first, last] in a time zone, turned into UTC bounds [start, end)
at local midnights, so a day across a DST change has its 23 or 25 hours and a lead at 23:59
local time belongs to its own day, whatever UTC says.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Deal, Employee, Lead, Role
from services.access import HasRole
from services.errors import AccessDenied, InvalidInput

MAX_DAYS = 366


class Preset(enum.StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    WEEK = "week"  # this week so far, from Monday
    MONTH = "month"  # this month so far


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    tz: tzinfo

    @classmethod
    def of(cls, preset: Preset, now: datetime, tz: tzinfo) -> Period:
        today = now.astimezone(tz).date()
        if preset is Preset.TODAY:
            return cls(today, today, tz)
        if preset is Preset.YESTERDAY:
            return cls(today - timedelta(days=1), today - timedelta(days=1), tz)
        if preset is Preset.WEEK:
            return cls(today - timedelta(days=today.weekday()), today, tz)
        return cls(today.replace(day=1), today, tz)

    @classmethod
    def between(cls, first: date, last: date, tz: tzinfo) -> Period:
        if last < first:
            raise InvalidInput("the period ends before it starts", key="report.bad_range")
        if (last - first).days >= MAX_DAYS:
            raise InvalidInput("a period of a year at most", key="report.too_long")
        return cls(first, last, tz)

    @property
    def start(self) -> datetime:
        return _midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1), self.tz)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def month(self) -> Period:
        """The whole month the period ends in (plans are monthly)."""
        length = calendar.monthrange(self.last.year, self.last.month)[1]
        return Period(self.last.replace(day=1), self.last.replace(day=length), self.tz)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Scope:
    """Whose numbers: one employee's, one office's, or (both None) the company's."""

    employee_id: int | None = None
    office_id: int | None = None


def scope_for(
    by: HasRole, *, employee_id: int | None = None, office_id: int | None = None
) -> Scope:
    """What `by` may see: an employee their own numbers; a manager their office's (and its
    people's); an admin anything. Asking for more is refused."""
    if by.role is Role.ADMIN:
        return Scope(employee_id, office_id)
    if by.role is Role.MANAGER:
        if office_id not in (None, by.office_id):
            raise AccessDenied("another office's numbers", key="report.no_access")
        return Scope(employee_id, by.office_id)  # one of theirs: still within the office
    if employee_id not in (None, by.id) or office_id is not None:
        raise AccessDenied("someone else's numbers", key="report.no_access")
    return Scope(by.id, None)


async def person(session: AsyncSession, by: HasRole, employee_id: int) -> str:
    """The name of an employee whose numbers `by` may see (themselves; a manager their
    office's people, and anyone with a lead or deal of the office, whose numbers are then the
    office's share of theirs; an admin anyone); refused otherwise, before anything is counted."""
    found = await session.get(Employee, employee_id)
    allowed = found is not None and (
        by.role is Role.ADMIN
        or found.id == by.id
        or (by.role is Role.MANAGER and by.office_id in (None, found.office_id))
        or (by.role is Role.MANAGER and await _works_for(session, employee_id, by.office_id))
    )
    if not allowed or found is None:
        raise AccessDenied("someone else's numbers", key="report.no_access")
    return found.name


async def _works_for(session: AsyncSession, employee_id: int, office_id: int | None) -> bool:
    """Whether someone of another office has a lead or a deal of this office (assigned
    across offices): the office's report lists them."""
    leads = sa.select(Lead.id).where(Lead.office_id == office_id, Lead.assignee_id == employee_id)
    deals = sa.select(Deal.id).where(Deal.office_id == office_id, Deal.owner_id == employee_id)
    found = await session.scalar(sa.select(sa.or_(leads.exists(), deals.exists())))
    return bool(found)


def within(column: Any, period: Period) -> sa.ColumnElement[bool]:
    """`column` (a moment) falls in the period."""
    return sa.and_(column >= period.start, column < period.end)


def scoped(who: Any, office: Any, scope: Scope) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if scope.employee_id is not None:
        conditions.append(who == scope.employee_id)
    if scope.office_id is not None:
        conditions.append(office == scope.office_id)
    return conditions


def seconds_after(later: Any, earlier: Any, dialect: str) -> Any:
    """`later - earlier` in seconds, in SQL (PostgreSQL's intervals, SQLite's Julian days)."""
    if dialect == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400
