"""Who gets a new lead.

1. A returning client goes to its owner (if still active).
2. Otherwise round-robin among employees on duty now by their work schedule, in the
   office's time zone (the company's by default), taking turns by a shared sequence
   (no row is locked, so concurrent leads don't queue behind each other).
   An employee without any schedule rows works without restriction.
3. Nobody on duty: the office manager (round-robin among several).
4. Nobody at all: unassigned; notify tells the admins.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, Role, WorkSchedule
from models.db import next_in_sequence
from services.clients import Owner

TURN_SEQUENCE = "assignment_turn"


class Reason(enum.StrEnum):
    OWNER = "owner"
    ON_DUTY = "on_duty"
    OFFICE_MANAGER = "office_manager"
    NOBODY = "nobody"
    MANUAL = "manual"  # a manager or admin gave it (services.leads.assign)


@dataclass(frozen=True)
class Assignment:
    employee_id: int | None
    office_id: int | None
    reason: Reason
    telegram_id: int | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Shift:
    weekday: int
    starts_at: time
    ends_at: time


def working_seconds(shifts: Iterable[Shift], start: datetime, end: datetime, tz: ZoneInfo) -> int:
    """Seconds of [start, end) inside the shifts (office wall-clock time in `tz`); no shifts:
    all of it. Shifts are read as `is_on_duty` reads them (overnight, 24-hour)."""
    shifts = list(shifts)
    if end <= start:
        return 0
    if not shifts:
        return int((end - start).total_seconds())
    spans: list[tuple[datetime, datetime]] = []
    day = start.astimezone(tz).date() - timedelta(days=1)  # an overnight shift from before
    last = end.astimezone(tz).date()
    while day <= last:
        for s in shifts:
            if s.weekday != day.weekday():
                continue
            opens = datetime.combine(day, s.starts_at, tzinfo=tz).astimezone(UTC)
            closes_day = day if s.starts_at < s.ends_at else day + timedelta(days=1)
            closes = datetime.combine(closes_day, s.ends_at, tzinfo=tz).astimezone(UTC)
            if min(closes, end) > max(opens, start):
                spans.append((max(opens, start), min(closes, end)))
        day += timedelta(days=1)
    total, reached = 0.0, start  # overlapping shifts (Sun 22-06 and Mon 00-08) count once
    for opens, closes in sorted(spans):
        if closes > reached:
            total += (closes - max(opens, reached)).total_seconds()
            reached = closes
    return int(total)


async def schedule_of(
    session: AsyncSession, employee_id: int, default: ZoneInfo
) -> tuple[list[Shift], ZoneInfo]:
    """An employee's shifts and the zone they are in (their office's, else `default`)."""
    rows = (
        await session.execute(
            sa.select(WorkSchedule.weekday, WorkSchedule.starts_at, WorkSchedule.ends_at).where(
                WorkSchedule.employee_id == employee_id
            )
        )
    ).all()
    zone_name = await session.scalar(
        sa.select(Office.timezone)
        .join(Employee, Employee.office_id == Office.id)
        .where(Employee.id == employee_id)
    )
    try:
        zone = ZoneInfo(zone_name) if zone_name else default
    except (KeyError, ValueError):
        zone = default
    return [Shift(*row) for row in rows], zone


def is_on_duty(shifts: Iterable[Shift], local: datetime) -> bool:
    """Whether `local` (office wall-clock time) falls in any shift; no shifts = always.

    An end before the start runs past midnight; an end equal to the start is a 24-hour
    shift (00:00-24:00 is the whole day)."""
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
            return True  # an overnight or 24-hour shift, before or after midnight
    return False


async def choose(
    session: AsyncSession,
    *,
    owner: Owner | None,
    office_id: int | None,
    now: datetime,
    timezone: ZoneInfo,
) -> Assignment:
    if owner is not None:
        return Assignment(owner.id, owner.office_id, Reason.OWNER, owner.telegram_id, owner.locale)
    [choice] = await choose_many(session, [office_id], now=now, timezone=timezone)
    return choice


async def choose_many(
    session: AsyncSession, offices: list[int | None], *, now: datetime, timezone: ZoneInfo
) -> list[Assignment]:
    """An assignee for each new person (given the office of their lead, if any)."""
    if not offices:
        return []
    on_duty = await _on_duty(session, now=now, timezone=timezone)
    pools = [_in_office(on_duty, office) for office in offices]
    reasons = [Reason.ON_DUTY] * len(offices)
    if not all(pools):
        managers = await _candidates(session, roles=(Role.MANAGER,))
        for n, office in enumerate(offices):
            if not pools[n]:
                pools[n], reasons[n] = _in_office(managers, office), Reason.OFFICE_MANAGER
    turns = iter(await next_in_sequence(session, TURN_SEQUENCE, sum(len(p) > 1 for p in pools)))
    result = []
    for office, pool, reason in zip(offices, pools, reasons, strict=True):
        if not pool:
            result.append(Assignment(None, office, Reason.NOBODY))
            continue
        chosen = pool[(next(turns) - 1) % len(pool)] if len(pool) > 1 else pool[0]
        result.append(
            Assignment(chosen.id, chosen.office_id, reason, chosen.telegram_id, chosen.locale)
        )
    return result


def _in_office(rows: list[sa.Row], office_id: int | None) -> list[sa.Row]:
    return sorted(
        (r for r in rows if office_id is None or r.office_id == office_id), key=lambda r: r.id
    )


async def _candidates(session: AsyncSession, *, roles: tuple[Role, ...]) -> list[sa.Row]:
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.office_id, e.c.telegram_id, e.c.locale).where(
        e.c.role.in_(roles), e.c.is_active, e.c.telegram_id.is_not(None)
    )
    return list((await session.execute(stmt)).all())


async def _on_duty(session: AsyncSession, *, now: datetime, timezone: ZoneInfo) -> list[sa.Row]:
    e = Employee.__table__
    on_duty = (e.c.role == Role.EMPLOYEE, e.c.is_active, e.c.on_shift, e.c.telegram_id.is_not(None))
    return await _in_schedule(session, on_duty, now=now, timezone=timezone)


async def on_duty_now(
    session: AsyncSession, *, now: datetime, timezone: ZoneInfo, office_id: int | None = None
) -> list[sa.Row]:
    """Who would take turns for a new lead of `office_id` now (id, name, office_id, ...)."""
    return _in_office(await _on_duty(session, now=now, timezone=timezone), office_id)


async def inside_schedule(
    session: AsyncSession, employee_ids: list[int], *, now: datetime, timezone: ZoneInfo
) -> set[int]:
    """Those of `employee_ids` whose schedule covers `now` (no schedule: always)."""
    if not employee_ids:
        return set()
    where = (Employee.__table__.c.id.in_(employee_ids),)
    return {row.id for row in await _in_schedule(session, where, now=now, timezone=timezone)}


async def _in_schedule(
    session: AsyncSession,
    where: tuple[sa.ColumnElement[bool], ...],
    *,
    now: datetime,
    timezone: ZoneInfo,
) -> list[sa.Row]:
    e, w, o = Employee.__table__, WorkSchedule.__table__, Office.__table__
    stmt = (
        sa.select(
            e.c.id,
            e.c.name,
            e.c.office_id,
            e.c.telegram_id,
            e.c.locale,
            o.c.timezone,
            w.c.weekday,
            w.c.starts_at,
            w.c.ends_at,
        )
        .outerjoin(w, w.c.employee_id == e.c.id)
        .outerjoin(o, o.c.id == e.c.office_id)
        .where(*where)
    )
    shifts: dict[int, list[Shift]] = defaultdict(list)
    people: dict[int, sa.Row] = {}
    zones: dict[int, ZoneInfo] = {}
    for row in (await session.execute(stmt)).all():
        people[row.id] = row
        zones[row.id] = ZoneInfo(row.timezone) if row.timezone else timezone
        if row.weekday is not None:
            shifts[row.id].append(Shift(row.weekday, row.starts_at, row.ends_at))
    return [p for pid, p in people.items() if is_on_duty(shifts[pid], now.astimezone(zones[pid]))]
