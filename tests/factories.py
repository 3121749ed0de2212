"""Test data through the real services where the data is behaviour."""

from __future__ import annotations

import itertools
from datetime import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Role, WorkSchedule
from services import employees
from services.clock import Clock

_telegram_ids = itertools.count(100_001)


async def employee(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str = "Анна",
    role: Role = Role.EMPLOYEE,
    office: str | None = None,
    telegram: bool = True,
    locale: str | None = None,
    shifts: list[tuple[int, str, str]] | None = None,
) -> Employee:
    """An employee bound to Telegram; `shifts` are (weekday, "09:00", "18:00") tuples."""
    new = await employees.add(
        session,
        name=name,
        role=role,
        now=clock.now(),
        office=office,
        telegram_id=next(_telegram_ids) if telegram else None,
    )
    for weekday, start, end in shifts or []:
        session.add(
            WorkSchedule(
                employee_id=new.id,
                weekday=weekday,
                starts_at=time.fromisoformat(start),
                ends_at=time.fromisoformat(end),
            )
        )
    await session.flush()
    found = await session.get(Employee, new.id)
    assert found is not None
    if locale:
        found.locale = locale
    return found


WEEKDAYS_9_TO_18 = [(d, "09:00", "18:00") for d in range(5)]


async def count(session: AsyncSession, model: type) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(model))).scalar_one()


def four_byte_text(count: int, seed: int = 0) -> str:
    """`count` four-byte characters (CJK Extension B) that do not repeat: text compression
    cannot shrink below an index entry's limit, as hostile input may be."""
    return "".join(chr(0x20000 + (seed * 1000 + i) * 7919 % 42000) for i in range(count))
