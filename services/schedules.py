"""Work schedules: the shifts an employee works each week, in the office's local time.

An employee has any number of shifts (Mon–Fri 09:00–18:00 *and* Sat 10:00–14:00). A shift
whose end is before its start runs past midnight; a shift whose end equals its start lasts
24 hours (`00:00`–`24:00` is the whole day, `08:00`–`08:00` a day-and-night duty). Whether
someone is on duty at a moment is decided in services.assignment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import WorkSchedule
from services import audit, employees
from services.errors import Conflict, InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?")


@dataclass(frozen=True)
class ShiftRow:
    weekday: int
    starts_at: time
    ends_at: time

    @property
    def hours(self) -> str:
        """ "09:00-18:00" (a shift to midnight ends at "24:00")."""
        end = "24:00" if self.ends_at == time(0) else f"{self.ends_at:%H:%M}"
        return f"{self.starts_at:%H:%M}-{end}"

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hours}"


def parse_days(spec: str) -> list[int]:
    """ "mon-fri", "sat,sun", "mon,wed-fri" → weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise InvalidInput(f"days look like mon-fri or sat,sun, not {spec!r}")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    return sorted(days)


def parse_time(text: str, *, end: bool = False) -> time:
    """ "9:00", "09:00", "9" → 09:00; "24:00" (an end only) is midnight at the day's end."""
    match = _TIME.fullmatch(text.strip())
    hours, minutes = (int(match[1]), int(match[2] or 0)) if match else (-1, -1)
    if end and (hours, minutes) == (24, 0):
        return time(0)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise InvalidInput(f"times look like 9:00 or 18:30 (24:00 as an end), not {text!r}")
    return time(hours, minutes)


def parse_ranges(weekday: int, text: str) -> list[ShiftRow]:
    """ "09:00-13:00, 14:00-18:00" → that day's shifts ("" → none); several ranges a day."""
    shifts = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        start, dash, end = part.replace("–", "-").replace("—", "-").partition("-")
        if not dash:
            raise InvalidInput(
                f"a shift looks like 09:00-18:00, not {part.strip()!r}",
                key="settings.bad_shift",
                text=part.strip()[:40],
            )
        try:
            shifts.append(ShiftRow(weekday, parse_time(start), parse_time(end, end=True)))
        except InvalidInput:
            raise InvalidInput(
                "not a time", key="settings.bad_shift", text=part.strip()[:40]
            ) from None
    taken = [s.starts_at for s in shifts]
    if len(set(taken)) != len(taken):
        raise InvalidInput("two shifts start at once", key="settings.bad_shift", text=text[:40])
    return shifts


def shifts_for(days: list[int], starts_at: time, ends_at: time) -> list[ShiftRow]:
    return [ShiftRow(d, starts_at, ends_at) for d in days]


async def replace(
    session: AsyncSession,
    employee_id: int,
    shifts: list[ShiftRow],
    *,
    now: datetime,
    actor_id: int | None = None,
) -> list[ShiftRow]:
    """The employee's schedule becomes exactly `shifts`."""
    await employees.get(session, employee_id)
    await session.execute(sa.delete(WorkSchedule).where(WorkSchedule.employee_id == employee_id))
    return await _add(
        session, employee_id, shifts, now=now, action="employee.schedule_set", actor_id=actor_id
    )


async def add(
    session: AsyncSession, employee_id: int, shifts: list[ShiftRow], *, now: datetime
) -> list[ShiftRow]:
    """More shifts beside the ones the employee has (a shift starting at the same time on
    the same day is a conflict: replace or clear instead)."""
    existing = await show(session, employee_id)
    taken = {(s.weekday, s.starts_at): s for s in existing}
    for shift in shifts:
        if (shift.weekday, shift.starts_at) in taken:
            raise Conflict(
                f"there is already a shift {taken[(shift.weekday, shift.starts_at)]}",
                key="staff.shift_taken",
            )
    return await _add(session, employee_id, shifts, now=now, action="employee.schedule_added")


async def clear(session: AsyncSession, employee_id: int, *, now: datetime) -> None:
    """No shifts: the employee counts as always on duty again (as before any schedule)."""
    await replace(session, employee_id, [], now=now)


async def show(session: AsyncSession, employee_id: int) -> list[ShiftRow]:
    await employees.get(session, employee_id)
    w = WorkSchedule.__table__
    stmt = (
        sa.select(w.c.weekday, w.c.starts_at, w.c.ends_at)
        .where(w.c.employee_id == employee_id)
        .order_by(w.c.weekday, w.c.starts_at)
    )
    return [ShiftRow(*row) for row in (await session.execute(stmt)).all()]


async def _add(
    session: AsyncSession,
    employee_id: int,
    shifts: list[ShiftRow],
    *,
    now: datetime,
    action: str,
    actor_id: int | None = None,
) -> list[ShiftRow]:
    session.add_all(
        WorkSchedule(
            employee_id=employee_id, weekday=s.weekday, starts_at=s.starts_at, ends_at=s.ends_at
        )
        for s in shifts
    )
    await session.flush()
    await audit.log(
        session,
        action=action,
        entity_type="employee",
        entity_id=employee_id,
        at=now,
        actor_id=actor_id,
        actor_kind="employee" if actor_id else "system",
        shifts=[str(s) for s in shifts],
    )
    return await show(session, employee_id)
