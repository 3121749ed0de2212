"""Offices in the admin web (admins only): each with its time zone (the schedules and the
times shown to its people are in it; none: the company's), its people and phone lines;
added, renamed, given a zone. Audited as the admin's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, PhoneLine
from models.text import fold, folded
from services import access, audit
from services.access import HasRole
from services.errors import Conflict, InvalidInput, NotFound

NAME_LIMIT = 200


@dataclass(frozen=True)
class OfficeRow:
    id: int
    name: str
    timezone: str | None
    people: int  # active employees
    lines: int


def _require(by: HasRole) -> None:
    if not access.can_edit_settings(by):
        raise NotFound("only admins edit offices", key="web.not_found")


def zone_of(text: str | None) -> str | None:
    """An IANA time zone name as typed ("Asia/Yekaterinburg"), checked; "" → None."""
    name = (text or "").strip()
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("not a time zone", key="settings.bad_zone", zone=name[:64]) from None
    return name


async def every(session: AsyncSession, *, by: HasRole) -> list[OfficeRow]:
    _require(by)
    people = (
        sa.select(sa.func.count())
        .where(Employee.office_id == Office.id, Employee.is_active)
        .scalar_subquery()
    )
    lines = sa.select(sa.func.count()).where(PhoneLine.office_id == Office.id).scalar_subquery()
    stmt = sa.select(Office.id, Office.name, Office.timezone, people, lines).order_by(Office.name)
    return [OfficeRow(*row) for row in (await session.execute(stmt)).all()]


async def _name(session: AsyncSession, text: str, office_id: int | None) -> str:
    name = " ".join(text.split())
    if not name:
        raise InvalidInput("an office needs a name", key="settings.office_name_empty")
    if len(name) > NAME_LIMIT:
        raise InvalidInput("too long", key="settings.stage_name_long", limit=NAME_LIMIT)
    taken = await session.scalar(
        sa.select(Office.id).where(folded(Office.name) == fold(name), Office.id != (office_id or 0))
    )
    if taken is not None:
        raise Conflict("an office of that name exists", key="settings.office_taken", name=name)
    return name


async def add(
    session: AsyncSession, name: str, timezone: str | None, *, by: HasRole, now: datetime
) -> int:
    _require(by)
    office = Office(
        name=await _name(session, name, None),
        timezone=zone_of(timezone),
        created_at=now,
        updated_at=now,
    )
    session.add(office)
    await session.flush()
    await _log(session, "office.added", office, by, now)
    return office.id


async def change(
    session: AsyncSession,
    office_id: int,
    name: str,
    timezone: str | None,
    *,
    by: HasRole,
    now: datetime,
) -> None:
    _require(by)
    office = await session.get(Office, office_id)
    if office is None:
        raise NotFound("no such office", key="web.not_found")
    before = {"name": office.name, "timezone": office.timezone}
    office.name = await _name(session, name, office_id)
    office.timezone = zone_of(timezone)
    office.updated_at = now
    await _log(session, "office.changed", office, by, now, before=before)


async def _log(
    session: AsyncSession,
    action: str,
    office: Office,
    by: HasRole,
    now: datetime,
    **extra: object,
) -> None:
    await audit.log(
        session,
        action=action,
        entity_type="office",
        entity_id=office.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        name=office.name,
        timezone=office.timezone,
        **extra,
    )
