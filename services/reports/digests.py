"""Daily digests: at `DIGEST_TIME` in each recipient's zone, yesterday's numbers pushed to them
(a manager their office's, an admin the company's, an employee their own; Mondays add last
week).

The job (scheduler.jobs.send_digests) writes one outbox row per employee and local day, with a
dedupe key: however many scheduler processes tick, and however late one starts after downtime
(the same day), each digest is written once. The numbers are counted when the row is sent
(bot.telegram.report_screens), so a digest delayed by the outbox shows what is known then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Employee, Office, OutboxLane, OutboxMessage, Role
from services import outbox
from services.context import Company
from services.errors import NotFound
from services.reports.periods import Period, Scope

DIGEST = "report_digest"  # outbox kind
CHART = "report_chart"  # Mondays, after a manager's digest: the month's plan vs fact, drawn


@dataclass(frozen=True)
class Sent:
    written: int
    waiting: int  # employees whose digest time has not come yet today


async def send_due(session: AsyncSession, company: Company) -> Sent:
    """A digest row for every active employee with Telegram whose local time has passed the
    digest time today and who has none for today yet."""
    now = company.clock.now()
    e, o = Employee.__table__, Office.__table__
    people = (
        await session.execute(
            sa.select(e.c.id, e.c.telegram_id, e.c.locale, e.c.role, o.c.timezone)
            .outerjoin(o, o.c.id == e.c.office_id)
            .where(e.c.is_active, e.c.telegram_id.is_not(None))
            .order_by(e.c.id)
        )
    ).all()
    due: dict[str, outbox.Outgoing] = {}
    waiting = 0
    for employee_id, telegram_id, locale, role, zone_name in people:
        local = now.astimezone(_zone(zone_name, company.timezone))
        if local.time() < company.digest_time:
            waiting += 1
            continue
        kinds = [DIGEST]
        if local.weekday() == 0 and role in (Role.MANAGER, Role.ADMIN):
            kinds.append(CHART)
        for kind in kinds:
            key = f"{kind}:{employee_id}:{local.date().isoformat()}"
            due[key] = outbox.Outgoing(
                channel=Channel.TELEGRAM,
                recipient=telegram_id,
                kind=kind,
                payload={"employee_id": employee_id, "day": local.date().isoformat()},
                locale=locale or company.locale,
                lane=OutboxLane.BULK,  # never ahead of a client's card or a reminder
                dedupe_key=key,
            )
    if not due:
        return Sent(0, waiting)
    o_table = OutboxMessage.__table__
    known: set[str] = set()
    keys = sorted(due)
    for i in range(0, len(keys), 500):  # a statement's parameters are limited
        found = await session.execute(
            sa.select(o_table.c.dedupe_key).where(o_table.c.dedupe_key.in_(keys[i : i + 500]))
        )
        known |= set(found.scalars())
    rows = [row for key, row in due.items() if key not in known]  # the chart after its digest
    written = await outbox.enqueue_many(session, rows, now=now)
    return Sent(sum(i is not None for i in written), waiting)


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


@dataclass(frozen=True)
class Digest:
    """What one employee's digest covers: yesterday (to `day`, the day it is sent), and on
    Mondays the week before too; whose numbers, by their role."""

    employee_id: int
    name: str
    role: Role
    scope: Scope
    yesterday: Period
    last_week: Period | None


async def of(session: AsyncSession, employee_id: int, day: date, company: Company) -> Digest:
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("no such employee")
    tz = company.timezone
    if employee.office_id is not None:
        office = await session.get(Office, employee.office_id)
        tz = _zone(office.timezone if office else None, company.timezone)
    if employee.role is Role.ADMIN:
        scope = Scope()
    elif employee.role is Role.MANAGER:
        scope = Scope(None, employee.office_id)
    else:
        scope = Scope(employee.id, None)
    yesterday = day - timedelta(days=1)
    week = None
    if day.weekday() == 0:  # Monday: the week before, Monday to Sunday
        week = Period(day - timedelta(days=7), yesterday, tz)
    return Digest(
        employee.id, employee.name, employee.role, scope, Period(yesterday, yesterday, tz), week
    )
