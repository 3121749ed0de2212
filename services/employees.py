"""Employees: adding, listing, editing and deactivating them, invites that bind a Telegram
account. Admin logins live in services.admins, work schedules in services.schedules."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, Role
from services import assignment, audit, notify
from services.bounds import fits_int64
from services.clients.identities import normalize_phone
from services.context import Company
from services.errors import Conflict, InvalidInput, NotFound
from services.leads import queue as lead_queue

INVITE_TTL = timedelta(days=7)
# PBX extensions are short numbers (usually 3-4 digits); one per employee, or calls would
# silently go to whichever holder the database returns first.
_EXTENSION = re.compile(r"\d{1,10}")


@dataclass(frozen=True)
class NewEmployee:
    id: int
    invite_code: str | None


async def add(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    now: datetime,
    region: str = "RU",
    telegram_id: int | None = None,
    phone: str | None = None,
    office: str | None = None,
    extension: str | None = None,
) -> NewEmployee:
    """Add an employee; without a Telegram id they get an invite code to bind one."""
    if not name.strip():
        raise InvalidInput("the employee needs a name", key="settings.person_name_empty")
    await _check_telegram_free(session, telegram_id)
    extension = await _free_extension(session, extension) if extension else None
    employee = Employee(
        name=name.strip(),
        role=role,
        telegram_id=telegram_id,
        phone=normalize_phone(phone, region) if phone else None,
        extension=extension,
        office_id=await office_id(session, office, create=True, now=now) if office else None,
        created_at=now,
        updated_at=now,
    )
    if telegram_id is None:
        employee.invite_code = secrets.token_urlsafe(16)
        employee.invite_expires_at = now + INVITE_TTL
    session.add(employee)
    await session.flush()
    await audit.log(
        session,
        action="employee.added",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        role=role.value,
    )
    return NewEmployee(employee.id, employee.invite_code)


async def office_id(
    session: AsyncSession, name: str, *, create: bool = False, now: datetime | None = None
) -> int:
    found = (await session.execute(sa.select(Office.id).where(Office.name == name))).scalar()
    if found is not None:
        return found
    if not create or now is None:
        raise NotFound("no such office", office=name)
    office = Office(name=name, created_at=now, updated_at=now)
    session.add(office)
    await session.flush()
    return office.id


async def redeem_invite(
    session: AsyncSession,
    code: str,
    *,
    telegram_id: int,
    username: str | None,
    company: Company,
) -> Employee:
    """Bind the Telegram account that opened the invite link to its employee. Leads waiting
    in the queue are handed out at once (the new person may be on duty), and a new admin gets
    the cards of those still waiting."""
    now = company.clock.now()
    employee = (
        await session.execute(sa.select(Employee).where(Employee.invite_code == code))
    ).scalar_one_or_none()
    if employee is None or not employee.is_active:
        raise NotFound("invite not found or already used", key="error.invite")
    if employee.invite_expires_at is not None and employee.invite_expires_at < now:
        raise InvalidInput("the invite has expired; ask for a new one", key="error.invite_expired")
    other = await by_telegram_id(session, telegram_id)
    if other is not None and other.id != employee.id:
        raise Conflict(
            "this Telegram account already belongs to another employee", key="error.telegram_taken"
        )
    employee.telegram_id, employee.telegram_username = telegram_id, username
    employee.invite_code = employee.invite_expires_at = None
    employee.updated_at = now
    await audit.log(
        session,
        action="employee.telegram_bound",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        actor_id=employee.id,
        actor_kind="employee",
    )
    await session.flush()
    await _queue_may_move(session, employee, company)
    await _menu_changed(session, telegram_id, company)
    return employee


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Employee | None:
    if not fits_int64(telegram_id):
        return None  # no column can hold it, so nobody has it
    stmt = sa.select(Employee).where(Employee.telegram_id == telegram_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _check_telegram_free(
    session: AsyncSession, telegram_id: int | None, employee_id: int | None = None
) -> None:
    if telegram_id is None:
        return
    holder = await by_telegram_id(session, telegram_id)
    if holder is not None and holder.id != employee_id:
        raise Conflict(
            "this Telegram account already belongs to an employee",
            key="error.telegram_taken",
            telegram_id=telegram_id,
        )


async def _free_extension(
    session: AsyncSession, extension: str, employee_id: int | None = None
) -> str:
    """A valid extension nobody else has (the database enforces it too)."""
    value = extension.strip()
    if not _EXTENSION.fullmatch(value):
        raise InvalidInput(
            f"an extension is 1-10 digits, like 101, not {extension!r}",
            key="settings.bad_extension",
            raw=extension[:20],
        )
    stmt = sa.select(Employee.id, Employee.name).where(
        Employee.extension == value, Employee.id != (employee_id or 0)
    )
    holder = (await session.execute(stmt)).first()
    if holder is not None:
        raise Conflict(
            f"extension {value} already belongs to {holder.name} (id {holder.id})",
            key="staff.extension_taken",
        )
    return value


@dataclass(frozen=True)
class Changes:
    """What `crm employee edit` changes; None leaves a field as it is, "" clears it."""

    name: str | None = None
    role: Role | None = None
    phone: str | None = None
    extension: str | None = None
    office: str | None = None
    telegram_id: int | None = None


async def edit(
    session: AsyncSession,
    employee_id: int,
    changes: Changes,
    *,
    company: Company,
    actor_id: int | None = None,
) -> Employee:
    """Change what is given; a newly bound Telegram or a new role may let them take leads
    waiting in the queue, which is then handed out."""
    now = company.clock.now()
    employee = await get(session, employee_id)
    chats = {employee.telegram_id, changes.telegram_id} if changes.telegram_id else set()
    if changes.role is not None:
        chats.add(employee.telegram_id)
    if changes.name is not None:
        if not changes.name.strip():
            raise InvalidInput("the employee needs a name", key="settings.person_name_empty")
        employee.name = changes.name.strip()
    if changes.role is not None:
        if employee.role is Role.ADMIN and changes.role is not Role.ADMIN:
            await _keep_an_admin(session, employee)
        employee.role = changes.role
    await _change_contacts(session, employee, changes, company)
    employee.updated_at = now
    await session.flush()
    changed = {k: str(v) for k, v in vars(changes).items() if v is not None}
    await audit.log(
        session,
        action="employee.edited",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        actor_id=actor_id,
        actor_kind="employee" if actor_id else "system",
        **changed,
    )
    if changes.telegram_id is not None or changes.role is not None:
        await _queue_may_move(session, employee, company)
    for chat in chats - {None}:  # a chat it left loses the menu, its new one gets it
        await _menu_changed(session, chat, company)
    return employee


async def _change_contacts(
    session: AsyncSession, employee: Employee, changes: Changes, company: Company
) -> None:
    if changes.phone is not None:
        phone = changes.phone.strip()
        employee.phone = normalize_phone(phone, company.region) if phone else None
    if changes.extension is not None:
        ext = changes.extension
        employee.extension = await _free_extension(session, ext, employee.id) if ext else None
    if changes.office is not None:
        office, now = changes.office.strip(), company.clock.now()
        employee.office_id = (
            await office_id(session, office, create=True, now=now) if office else None
        )
    if changes.telegram_id is not None:
        await _bind(session, employee, changes.telegram_id)


async def _queue_may_move(session: AsyncSession, employee: Employee, company: Company) -> None:
    """Someone new may take waiting leads now; an admin new to Telegram is shown the rest."""
    await lead_queue.hand_out(session, company)
    if employee.role is Role.ADMIN and employee.telegram_id is not None:
        await lead_queue.show_to_admins(session, company)


async def _bind(session: AsyncSession, employee: Employee, telegram_id: int) -> None:
    await _check_telegram_free(session, telegram_id, employee.id)
    employee.telegram_id = telegram_id
    employee.invite_code = employee.invite_expires_at = None


async def set_active(
    session: AsyncSession, employee_id: int, active: bool, *, company: Company
) -> Employee:
    """Deactivated: no new leads, no returning clients, buttons answer "not an employee", and
    their untaken leads go back to the queue (handed out at once if someone is on duty)."""
    employee = await get(session, employee_id)
    if employee.is_active is active:
        return employee
    if not active and employee.role is Role.ADMIN:
        await _keep_an_admin(session, employee)
    now = company.clock.now()
    employee.is_active, employee.updated_at = active, now
    await session.flush()
    action = "employee.activated" if active else "employee.deactivated"
    await audit.log(session, action=action, entity_type="employee", entity_id=employee.id, at=now)
    if not active:
        await lead_queue.release(session, assignee_id=employee.id, company=company)
    await lead_queue.hand_out(session, company)
    if not active:
        await lead_queue.show_to_admins(session, company)
    if employee.telegram_id is not None:  # their menu goes (or comes back) with their access
        await _menu_changed(session, employee.telegram_id, company)
    return employee


async def _menu_changed(session: AsyncSession, telegram_id: int | None, company: Company) -> None:
    if telegram_id is not None:
        now, locale = company.clock.now(), company.locale
        await notify.menu_changed(session, telegram_id=telegram_id, now=now, default_locale=locale)


async def _keep_an_admin(session: AsyncSession, employee: Employee) -> None:
    stmt = sa.select(sa.func.count()).where(
        Employee.role == Role.ADMIN, Employee.is_active, Employee.id != employee.id
    )
    if (await session.execute(stmt)).scalar_one() == 0:
        raise Conflict(
            "this is the only active admin; make another admin first", key="settings.last_admin"
        )


async def get(session: AsyncSession, employee_id: int) -> Employee:
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise NotFound(f"no employee with id {employee_id}", employee_id=employee_id)
    return employee


@dataclass(frozen=True)
class RosterRow:
    id: int
    name: str
    role: Role
    office: str | None
    telegram_bound: bool
    extension: str | None
    active: bool
    on_duty: bool  # active, on shift and inside their schedule now


async def roster(session: AsyncSession, *, now: datetime, timezone: ZoneInfo) -> list[RosterRow]:
    """Every employee, for `crm employee list`."""
    e, o = Employee.__table__, Office.__table__
    stmt = (
        sa.select(
            e.c.id,
            e.c.name,
            e.c.role,
            o.c.name.label("office"),
            e.c.telegram_id,
            e.c.extension,
            e.c.is_active,
            e.c.on_shift,
        )
        .outerjoin(o, o.c.id == e.c.office_id)
        .order_by(e.c.id)
    )
    rows = (await session.execute(stmt)).all()
    working = [r.id for r in rows if r.is_active and r.on_shift]
    inside = await assignment.inside_schedule(session, working, now=now, timezone=timezone)
    return [
        RosterRow(
            r.id,
            r.name,
            r.role,
            r.office,
            r.telegram_id is not None,
            r.extension,
            r.is_active,
            r.id in inside,
        )
        for r in rows
    ]
