"""The admin web's people (admins only): adding, blocking and inviting employees, and each
one's page: details, weekly schedule, phone lines and monthly plans, each changed through the
service that owns it (services.employees, .schedules, .lines, .reports.plans), audited as the
admin's."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, PhoneLine, Role, SalesPlan
from services import access, audit, employees, lines, schedules
from services.access import HasRole
from services.context import Company
from services.errors import AccessDenied, Conflict, NotFound
from services.reports import plans


@dataclass(frozen=True)
class LineRow:
    id: int
    number: str
    name: str
    source: str | None


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: Role
    office: str | None
    phone: str | None
    extension: str | None
    telegram_bound: bool
    active: bool
    week: dict[int, str]  # weekday → its shifts as typed ("09:00-13:00, 14:00-18:00")
    lines: list[LineRow]
    plans: list[tuple[date, Decimal]]  # month → amount, the latest first


def _require(by: HasRole) -> None:
    """Anyone else is told there is no such page."""
    if not access.can_edit_settings(by):
        raise NotFound("only admins edit people", key="web.not_found")


async def person(session: AsyncSession, employee_id: int, *, by: HasRole) -> Person:
    _require(by)
    employee = await employees.get(session, employee_id)
    office = await session.get(Office, employee.office_id) if employee.office_id else None
    week: dict[int, list[str]] = {day: [] for day in range(7)}
    for shift in await schedules.show(session, employee_id):
        week[shift.weekday].append(shift.hours)
    found_lines = await session.execute(
        sa.select(PhoneLine.id, PhoneLine.number, PhoneLine.name, PhoneLine.source)
        .where(PhoneLine.employee_id == employee_id)
        .order_by(PhoneLine.id)
    )
    found_plans = await session.execute(
        sa.select(SalesPlan.month, SalesPlan.amount)
        .where(SalesPlan.employee_id == employee_id, SalesPlan.office_id.is_(None))
        .order_by(SalesPlan.month.desc())
        .limit(12)
    )
    return Person(
        employee.id,
        employee.name,
        employee.role,
        office.name if office else None,
        employee.phone,
        employee.extension,
        employee.telegram_id is not None,
        employee.is_active,
        {day: ", ".join(ranges) for day, ranges in week.items()},
        [LineRow(*row) for row in found_lines.all()],
        [(month, amount) for month, amount in found_plans.all()],
    )


async def edit(
    session: AsyncSession,
    employee_id: int,
    changes: employees.Changes,
    *,
    by: HasRole,
    company: Company,
) -> None:
    """Name, role, office, phone, extension; nobody takes away their own admin role here."""
    _require(by)
    if employee_id == by.id and changes.role not in (None, Role.ADMIN):
        raise AccessDenied("not your own role", key="settings.not_your_role")
    await employees.edit(session, employee_id, changes, company=company, actor_id=by.id)


async def set_week(
    session: AsyncSession, employee_id: int, week: dict[int, str], *, by: HasRole, now: datetime
) -> None:
    """The weekly schedule becomes what each day's field says (several ranges a day; all
    empty: no schedule, on duty whenever on shift)."""
    _require(by)
    shifts = [
        shift for day, text in sorted(week.items()) for shift in schedules.parse_ranges(day, text)
    ]
    await schedules.replace(session, employee_id, shifts, now=now, actor_id=by.id)


async def add_line(
    session: AsyncSession,
    employee_id: int,
    *,
    number: str,
    name: str,
    source: str | None,
    by: HasRole,
    company: Company,
) -> None:
    """A phone line whose calls go to this employee, named as a lead source."""
    _require(by)
    await employees.get(session, employee_id)
    await lines.add(
        session,
        number=number,
        name=name,
        source=source or None,
        employee_id=employee_id,
        now=company.clock.now(),
        region=company.region,
        actor_id=by.id,
    )


async def set_plan(
    session: AsyncSession, employee_id: int, month: str, amount: str, *, by: HasRole, now: datetime
) -> None:
    _require(by)
    await plans.set_plan(
        session,
        employee_id,
        plans.month_of(month),
        plans.amount_of(amount),
        now=now,
        actor_id=by.id,
    )


async def add_as(
    session: AsyncSession, *, by: HasRole, name: str, role: Role, office: str | None, now: datetime
) -> employees.NewEmployee:
    """`add` from the admin web: admins only, and audited as theirs."""
    if not access.can_edit_settings(by):
        raise AccessDenied("only admins add employees", key="web.not_found")
    return await employees.add(session, name=name, role=role, office=office or None, now=now)


async def set_active_as(
    session: AsyncSession, employee_id: int, active: bool, *, by: HasRole, company: Company
) -> Employee:
    """`set_active` from the admin web: admins only; nobody deactivates themselves there."""
    if not access.can_edit_settings(by):
        raise AccessDenied("only admins block and unblock employees", key="web.not_found")
    if employee_id == by.id and not active:
        raise Conflict("you cannot block yourself", key="settings.not_yourself")
    return await employees.set_active(session, employee_id, active, company=company)


async def open_invites(session: AsyncSession, *, now: datetime) -> dict[int, str]:
    """Employees not bound to Telegram yet whose invite still works: id → code."""
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.invite_code).where(
        e.c.telegram_id.is_(None),
        e.c.invite_code.is_not(None),
        sa.or_(e.c.invite_expires_at.is_(None), e.c.invite_expires_at > now),
    )
    return {row.id: row.invite_code for row in (await session.execute(stmt)).all()}


async def new_invite(session: AsyncSession, employee_id: int, *, by: HasRole, now: datetime) -> str:
    """A fresh invite for someone not bound to Telegram yet (the old one expired or was lost);
    the code. Admins only; the old code stops working."""
    if not access.can_edit_settings(by):
        raise AccessDenied("only admins make invites", key="web.not_found")
    employee = await employees.get(session, employee_id)
    if employee.telegram_id is not None:
        raise Conflict("already bound to Telegram", key="settings.bound_already")
    employee.invite_code = secrets.token_urlsafe(16)
    employee.invite_expires_at = now + employees.INVITE_TTL
    employee.updated_at = now
    await audit.log(
        session,
        action="employee.invited",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
    )
    return employee.invite_code
