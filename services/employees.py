"""Employees: adding them, invites that bind a Telegram account, admin logins."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Office, Role, WorkSchedule
from services import audit
from services.bounds import fits_int64
from services.errors import Conflict, InvalidInput, NotFound
from services.identities import normalize_phone

INVITE_TTL = timedelta(days=7)
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Actor:
    """The employee performing an action, as services need to know them."""

    id: int
    role: Role
    office_id: int | None
    name: str
    locale: str | None = None

    @classmethod
    def of(cls, employee: Employee) -> Actor:
        return cls(employee.id, employee.role, employee.office_id, employee.name, employee.locale)


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
        raise InvalidInput("the employee needs a name")
    if telegram_id is not None and await by_telegram_id(session, telegram_id) is not None:
        raise Conflict(
            "this Telegram account already belongs to an employee",
            key="error.telegram_taken",
            telegram_id=telegram_id,
        )
    employee = Employee(
        name=name.strip(),
        role=role,
        telegram_id=telegram_id,
        phone=normalize_phone(phone, region) if phone else None,
        extension=extension.strip() if extension else None,
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
    session: AsyncSession, code: str, *, telegram_id: int, username: str | None, now: datetime
) -> Employee:
    """Bind the Telegram account that opened the invite link to its employee."""
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
    return employee


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Employee | None:
    if not fits_int64(telegram_id):
        return None  # no column can hold it, so nobody has it
    stmt = sa.select(Employee).where(Employee.telegram_id == telegram_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def create_admin(
    session: AsyncSession, *, login: str, password: str, now: datetime
) -> NewEmployee:
    """An admin who logs in to the web panel (and may later bind Telegram via an invite)."""
    login = login.strip()
    if not login or len(login) > 64:
        raise InvalidInput("the login must be 1-64 characters")
    if len(password) < 8:
        raise InvalidInput("the password must be at least 8 characters")
    exists = await session.execute(sa.select(Employee.id).where(Employee.login == login))
    if exists.scalar() is not None:
        raise Conflict("this login is taken", login=login)
    admin = Employee(
        name=login,
        role=Role.ADMIN,
        login=login,
        password_hash=_hasher.hash(password),
        invite_code=secrets.token_urlsafe(16),
        invite_expires_at=now + INVITE_TTL,
        created_at=now,
        updated_at=now,
    )
    session.add(admin)
    await session.flush()
    await audit.log(
        session,
        action="admin.created",
        entity_type="employee",
        entity_id=admin.id,
        at=now,
        login=login,
    )
    return NewEmployee(admin.id, admin.invite_code)


async def check_password(session: AsyncSession, *, login: str, password: str) -> Employee | None:
    employee = (
        await session.execute(
            sa.select(Employee).where(Employee.login == login, Employee.is_active)
        )
    ).scalar_one_or_none()
    if employee is None or not employee.password_hash:
        return None
    try:
        _hasher.verify(employee.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return employee


async def has_admin(session: AsyncSession) -> bool:
    stmt = sa.select(Employee.id).where(Employee.role == Role.ADMIN).limit(1)
    return (await session.execute(stmt)).scalar() is not None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


async def set_schedule(
    session: AsyncSession,
    employee_id: int,
    *,
    days: list[int],
    starts_at: time,
    ends_at: time,
    now: datetime,
) -> None:
    """Replace the employee's work schedule (an end at or before the start runs overnight)."""
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("no such employee", employee_id=employee_id)
    if starts_at == ends_at:
        raise InvalidInput("a shift needs different start and end times")
    await session.execute(sa.delete(WorkSchedule).where(WorkSchedule.employee_id == employee_id))
    session.add_all(
        WorkSchedule(employee_id=employee_id, weekday=d, starts_at=starts_at, ends_at=ends_at)
        for d in days
    )
    await audit.log(
        session,
        action="employee.schedule_set",
        entity_type="employee",
        entity_id=employee_id,
        at=now,
        days=days,
        starts=starts_at.isoformat(),
        ends=ends_at.isoformat(),
    )
