"""Who performs an action, as services need to know them (every channel builds one)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, Role
from services.bounds import fits_int64


@dataclass(frozen=True)
class Actor:
    """The employee performing an action."""

    id: int
    role: Role
    office_id: int | None
    name: str
    locale: str | None = None
    timezone: str | None = None  # their office's, when it has its own (else the company's)

    @classmethod
    def of(cls, employee: Employee, timezone: str | None = None) -> Actor:
        return cls(
            employee.id, employee.role, employee.office_id, employee.name, employee.locale, timezone
        )

    def zone(self, default: ZoneInfo) -> ZoneInfo:
        """Where their clock is: their office's zone if it has a valid one, else `default`."""
        return _zone(self.timezone) or default


@cache
def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Seen:
    """Who wrote to the bot: the employee as an actor (None for strangers and former
    employees) and whether they are a former (deactivated) employee."""

    actor: Actor | None
    former: bool

    def astuple(self) -> tuple[Actor | None, bool]:
        return self.actor, self.former


async def seen(session: AsyncSession, telegram_id: int) -> Seen:
    """The employee behind a Telegram account with their office's zone, in one query."""
    if not fits_int64(telegram_id):
        return Seen(None, False)  # no column can hold it, so nobody has it
    e, o = Employee.__table__, Office.__table__
    stmt = (
        sa.select(
            e.c.id, e.c.role, e.c.office_id, e.c.name, e.c.locale, o.c.timezone, e.c.is_active
        )
        .select_from(e.outerjoin(o, o.c.id == e.c.office_id))
        .where(e.c.telegram_id == telegram_id)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return Seen(None, False)
    if not row.is_active:
        return Seen(None, True)
    return Seen(Actor(row.id, Role(row.role), *row[2:6]), False)


_COLUMNS = ("id", "role", "office_id", "name", "locale")
