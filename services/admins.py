"""Admin logins for the web panel: creating them, checking and resetting passwords."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Role
from services import audit
from services.employees import INVITE_TTL, NewEmployee
from services.errors import Conflict, InvalidInput, NotFound

MIN_PASSWORD = 8
_hasher = PasswordHasher()


async def create_admin(
    session: AsyncSession, *, login: str, password: str, now: datetime
) -> NewEmployee:
    """An admin who logs in to the web panel (and may later bind Telegram via an invite)."""
    login = _checked_login(login)
    _check_new_password(password)
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


WEB_ROLES = (Role.ADMIN, Role.MANAGER)


async def give_login(
    session: AsyncSession, *, employee_id: int, login: str, password: str, now: datetime
) -> Employee:
    """Let an admin or a manager sign in to the web panel with `login` (a manager sees their
    office's records there). Employees of other roles work in Telegram only."""
    login = _checked_login(login)
    _check_new_password(password)
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise NotFound(f"no employee {employee_id}")
    if employee.role not in WEB_ROLES:
        raise InvalidInput("only admins and managers sign in to the web panel")
    taken = await session.scalar(
        sa.select(Employee.id).where(Employee.login == login, Employee.id != employee_id)
    )
    if taken is not None:
        raise Conflict("this login is taken", login=login)
    employee.login, employee.password_hash = login, _hasher.hash(password)
    employee.updated_at = now
    await audit.log(
        session,
        action="admin.login_given",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        login=login,
    )
    return employee


def _checked_login(login: str) -> str:
    login = login.strip()
    if not login or len(login) > 64:
        raise InvalidInput("the login must be 1-64 characters")
    return login


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"the password must be at least {MIN_PASSWORD} characters",
            key="web.password_short",
            min=MIN_PASSWORD,
        )


async def by_login(session: AsyncSession, login: str) -> Employee:
    """The employee who signs in with `login`, or NotFound."""
    stmt = sa.select(Employee).where(Employee.login == login.strip())
    employee = (await session.execute(stmt)).scalar_one_or_none()
    if employee is None:
        raise NotFound(f"no one signs in as {login.strip()!r}", login=login)
    return employee


async def set_password(
    session: AsyncSession, *, login: str, password: str, now: datetime
) -> Employee:
    """Give the login a new password (the caller ends its old sessions)."""
    _check_new_password(password)
    employee = await by_login(session, login)
    employee.password_hash = _hasher.hash(password)
    employee.updated_at = now
    await audit.log(
        session,
        action="admin.password_reset",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        login=employee.login,
    )
    return employee


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
