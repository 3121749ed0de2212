"""The company's phone lines (numbers, SIMs): each is named as a lead source."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, PhoneLine
from services import audit
from services.clients.identities import normalize_phone
from services.errors import Conflict, InvalidInput, NotFound


async def add(
    session: AsyncSession,
    *,
    number: str,
    name: str,
    now: datetime,
    region: str = "RU",
    source: str | None = None,
    employee_id: int | None = None,
    actor_id: int | None = None,
) -> int:
    """A line calls arrive on; `source` is what the reports call it (the ad behind it)."""
    if not name.strip():
        raise InvalidInput("the line needs a name", key="settings.line_name_empty")
    e164 = normalize_phone(number, region)
    taken = await session.execute(sa.select(PhoneLine.id).where(PhoneLine.number == e164))
    if taken.scalar() is not None:
        raise Conflict("this number is already a line", key="settings.line_taken", number=e164)
    office_id = None
    if employee_id is not None:
        employee = await session.get(Employee, employee_id)
        if employee is None:
            raise NotFound("no such employee", employee_id=employee_id)
        office_id = employee.office_id
    line = PhoneLine(
        number=e164,
        name=name.strip(),
        source=source,
        employee_id=employee_id,
        office_id=office_id,
        created_at=now,
        updated_at=now,
    )
    session.add(line)
    await session.flush()
    await audit.log(
        session,
        action="line.added",
        entity_type="line",
        entity_id=line.id,
        at=now,
        actor_id=actor_id,
        actor_kind="employee" if actor_id else "system",
        number=e164,
        name=line.name,
        source=source,
        employee_id=employee_id,
    )
    return line.id
