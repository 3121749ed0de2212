"""Who gets a new lead.

1. A returning client goes to its owner (if still active).
2. Otherwise round-robin among employees on duty now by their work schedule, in the
   office's time zone (the company's by default): whoever was assigned longest ago.
   An employee without any schedule rows works without restriction.
3. Nobody on duty: the office manager (round-robin among several).
4. Nobody at all: unassigned; notify tells the admins.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, Role, WorkSchedule


class Reason(enum.StrEnum):
    OWNER = "owner"
    ON_DUTY = "on_duty"
    OFFICE_MANAGER = "office_manager"
    NOBODY = "nobody"


@dataclass(frozen=True)
class Assignment:
    employee_id: int | None
    office_id: int | None
    reason: Reason


@dataclass(frozen=True)
class Shift:
    weekday: int
    starts_at: time
    ends_at: time


def is_on_duty(shifts: Iterable[Shift], local: datetime) -> bool:
    """Whether `local` (office wall-clock time) falls in any shift; no shifts = always."""
    shifts = list(shifts)
    if not shifts:
        return True
    weekday, now = local.weekday(), local.time()
    for s in shifts:
        if s.starts_at < s.ends_at:
            if s.weekday == weekday and s.starts_at <= now < s.ends_at:
                return True
        elif (s.weekday == weekday and now >= s.starts_at) or (
            s.weekday == (weekday - 1) % 7 and now < s.ends_at
        ):
            return True  # an overnight shift, before or after midnight
    return False


async def choose(
    session: AsyncSession,
    *,
    owner_id: int | None,
    office_id: int | None,
    now: datetime,
    timezone: ZoneInfo,
) -> Assignment:
    if owner_id is not None:
        owner = await _active_employee(session, owner_id)
        if owner is not None:
            return Assignment(owner.id, owner.office_id, Reason.OWNER)
    on_duty = await _on_duty(session, office_id=office_id, now=now, timezone=timezone)
    if on_duty:
        return await _pick(session, on_duty, now, Reason.ON_DUTY)
    managers = await _candidates(session, roles=(Role.MANAGER,), office_id=office_id)
    if managers:
        return await _pick(session, managers, now, Reason.OFFICE_MANAGER)
    return Assignment(None, office_id, Reason.NOBODY)


async def _active_employee(session: AsyncSession, employee_id: int) -> sa.Row | None:
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.office_id).where(e.c.id == employee_id, e.c.is_active)
    return (await session.execute(stmt)).one_or_none()


async def _candidates(
    session: AsyncSession, *, roles: tuple[Role, ...], office_id: int | None
) -> list[sa.Row]:
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.office_id, e.c.last_assigned_at).where(
        e.c.role.in_(roles), e.c.is_active, e.c.telegram_id.is_not(None)
    )
    if office_id is not None:
        stmt = stmt.where(e.c.office_id == office_id)
    return list((await session.execute(stmt)).all())


async def _on_duty(
    session: AsyncSession, *, office_id: int | None, now: datetime, timezone: ZoneInfo
) -> list[sa.Row]:
    e, w, o = Employee.__table__, WorkSchedule.__table__, Office.__table__
    stmt = (
        sa.select(
            e.c.id,
            e.c.office_id,
            e.c.last_assigned_at,
            o.c.timezone,
            w.c.weekday,
            w.c.starts_at,
            w.c.ends_at,
        )
        .outerjoin(w, w.c.employee_id == e.c.id)
        .outerjoin(o, o.c.id == e.c.office_id)
        .where(e.c.role == Role.EMPLOYEE, e.c.is_active, e.c.on_shift, e.c.telegram_id.is_not(None))
    )
    if office_id is not None:
        stmt = stmt.where(e.c.office_id == office_id)
    shifts: dict[int, list[Shift]] = defaultdict(list)
    people: dict[int, sa.Row] = {}
    zones: dict[int, ZoneInfo] = {}
    for row in (await session.execute(stmt)).all():
        people[row.id] = row
        zones[row.id] = ZoneInfo(row.timezone) if row.timezone else timezone
        if row.weekday is not None:
            shifts[row.id].append(Shift(row.weekday, row.starts_at, row.ends_at))
    return [p for pid, p in people.items() if is_on_duty(shifts[pid], now.astimezone(zones[pid]))]


async def _pick(
    session: AsyncSession, rows: list[sa.Row], now: datetime, reason: Reason
) -> Assignment:
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    chosen = min(rows, key=lambda r: (r.last_assigned_at or epoch, r.id))
    await session.execute(
        sa.update(Employee).where(Employee.id == chosen.id).values(last_assigned_at=now)
    )
    return Assignment(chosen.id, chosen.office_id, reason)
