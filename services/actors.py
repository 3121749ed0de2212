"""Who performs an action, as services need to know them (every channel builds one)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, Role


@dataclass(frozen=True)
class Actor:
    """The employee performing an action."""

    id: int
    role: Role
    office_id: int | None
    name: str
    locale: str | None = None

    @classmethod
    def of(cls, employee: Employee) -> Actor:
        return cls(employee.id, employee.role, employee.office_id, employee.name, employee.locale)


async def zone_of(session: AsyncSession, actor: Actor, default: ZoneInfo) -> ZoneInfo:
    """Where the actor's clock is: their office's zone if it has a valid one, else `default`
    (the company's). Every screen that shows them a time uses this."""
    if actor.office_id is None:
        return default
    name = await session.scalar(sa.select(Office.timezone).where(Office.id == actor.office_id))
    try:
        return ZoneInfo(name) if name else default
    except (ZoneInfoNotFoundError, ValueError):
        return default
