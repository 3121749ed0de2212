"""Who performs an action, as services need to know them (every channel builds one)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, Role
from services.bounds import fits_int64


@dataclass(frozen=True)
class Actor:
    """The employee performing an action. `zone` is where their clock is when it was read
    with them (`seen`); None when it was not (then `zone_of` reads it)."""

    id: int
    role: Role
    office_id: int | None
    name: str
    locale: str | None = None
    zone: ZoneInfo | None = None

    @classmethod
    def of(cls, employee: Employee) -> Actor:
        return cls(employee.id, employee.role, employee.office_id, employee.name, employee.locale)


async def zone_of(session: AsyncSession, actor: Actor, default: ZoneInfo) -> ZoneInfo:
    """Where the actor's clock is: their office's zone if it has a valid one, else `default`
    (the company's). Every screen that shows them a time uses this."""
    if actor.zone is not None:
        return actor.zone
    if actor.office_id is None:
        return default
    name = await session.scalar(sa.select(Office.timezone).where(Office.id == actor.office_id))
    return _zone(name) or default


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


NOBODY = Seen(None, False)


SEEN_PARAM = "seen_telegram_id"


def seen_statement(telegram_id: int) -> tuple[sa.Select[Any], dict[str, Any]] | None:
    """The employee behind a Telegram account with their office's zone, as a statement and
    its parameters (None when no column could hold the id, so nobody has it): the bot's unit
    of work reads it in the same round trip as the update's delivery record (services.inbound).
    """
    if not fits_int64(telegram_id):
        return None
    return _seen(), {SEEN_PARAM: telegram_id}


@cache  # built once: a statement is immutable, and building one costs more than running it
def _seen() -> sa.Select[Any]:
    e, o = Employee.__table__, Office.__table__
    return (
        sa.select(
            e.c.id, e.c.role, e.c.office_id, e.c.name, e.c.locale, o.c.timezone, e.c.is_active
        )
        .select_from(e.outerjoin(o, o.c.id == e.c.office_id))
        .where(e.c.telegram_id == sa.bindparam(SEEN_PARAM, type_=sa.BigInteger))
    )


def seen_from(row: Any, default: ZoneInfo) -> Seen:
    """A `seen_statement` row (or None: nobody) as who it is."""
    if row is None or row.id is None:
        return NOBODY
    if not row.is_active:
        return Seen(None, True)
    zone = _zone(row.timezone) or default
    return Seen(Actor(row.id, Role(row.role), row.office_id, row.name, row.locale, zone), False)


async def seen(session: AsyncSession, telegram_id: int, default: ZoneInfo) -> Seen:
    """Who is behind a Telegram account, in one query."""
    wanted = seen_statement(telegram_id)
    if wanted is None:
        return NOBODY
    return seen_from((await session.execute(*wanted)).first(), default)
