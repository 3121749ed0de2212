"""Logging in to the admin web: password check, server-side sessions, attempts audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, WebSession
from services import admins, audit, login_throttle
from services.errors import AccessDenied, DomainError, InvalidInput

SESSION_TTL = timedelta(hours=12)
WEB_ROLES = admins.WEB_ROLES
AUDITED_LOGIN = 64  # what is kept of a typed login (real ones are at most 64 characters)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginOutcome:
    token: str | None = None
    error: DomainError | None = None


class Throttled(AccessDenied):
    """Too many failures for this login from this address (or from this address at all)."""

    code = "throttled"
    http_status = 429

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"too many failed attempts; try again in {seconds} s",
            key="web.login_throttled",
            seconds=seconds,
        )
        self.seconds = seconds


async def log_in(
    session: AsyncSession, *, login: str, password: str, address: str | None, now: datetime
) -> LoginOutcome:
    """A new session token for a valid admin login, or the reason there is none.

    Every attempt is audited with the client's address. A failure is returned, not raised, so
    that its audit entry and its count (services.login_throttle) are committed. While the
    (login, address) pair or the address must wait, the password is not even checked.
    """
    login = login.strip()
    if not login or not password:
        error = InvalidInput("enter the login and the password", key="web.login_empty")
        return LoginOutcome(error=error)
    wait = await login_throttle.begin_attempt(session, login=login, address=address, now=now)
    if wait:
        await _audit_attempt(session, "web.login_throttled", login, address, now, wait=wait)
        return LoginOutcome(error=Throttled(wait))
    employee = await admins.check_password(session, login=login, password=password)
    if employee is None or employee.role not in WEB_ROLES:
        await login_throttle.record_failure(session, login=login, address=address, now=now)
        await _audit_attempt(session, "web.login_failed", login, address, now)
        return LoginOutcome(error=AccessDenied("wrong login or password", key="web.login_wrong"))
    await login_throttle.record_success(session, login=login, address=address)
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_hash(token),
            employee_id=employee.id,
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    await _audit_attempt(session, "web.login", login, address, now, employee_id=employee.id)
    return LoginOutcome(token=token)


async def _audit_attempt(
    session: AsyncSession,
    action: str,
    login: str,
    address: str | None,
    now: datetime,
    *,
    employee_id: int | None = None,
    **data: object,
) -> None:
    await audit.log(
        session,
        action=action,
        entity_type="employee" if employee_id else "login",
        entity_id=employee_id,
        at=now,
        actor_id=employee_id,
        actor_kind="admin" if employee_id else "system",
        login=login[:AUDITED_LOGIN],
        address=address,
        **data,
    )


async def employee_for(session: AsyncSession, token: str | None, now: datetime) -> Employee | None:
    if not token:
        return None
    stmt = (
        sa.select(Employee)
        .join(WebSession, WebSession.employee_id == Employee.id)
        .where(
            WebSession.token_hash == _hash(token), WebSession.expires_at > now, Employee.is_active
        )
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def log_out(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(sa.delete(WebSession).where(WebSession.token_hash == _hash(token)))


async def end_all_of(session: AsyncSession, employee_id: int) -> int:
    """Sign the employee out everywhere (their password changed); returns how many sessions."""
    result = await session.execute(
        sa.delete(WebSession).where(WebSession.employee_id == employee_id)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def change_password(
    session: AsyncSession,
    *,
    employee_id: int,
    current: str,
    new: str,
    repeated: str,
    keep: str | None,
    now: datetime,
) -> int:
    """The signed-in employee's own new password, the current one checked first; every other
    web session of theirs ends (the one in `keep`, the token they changed it in, stays).
    Returns how many ended."""
    employee = await session.get(Employee, employee_id)
    login = employee.login if employee is not None else None
    if not login or await admins.check_password(session, login=login, password=current) is None:
        raise AccessDenied("the current password is wrong", key="web.password_wrong")
    if new != repeated:
        raise InvalidInput("the new passwords differ", key="web.password_differs")
    await admins.set_password(session, login=login, password=new, now=now)
    others = sa.delete(WebSession).where(WebSession.employee_id == employee_id)
    if keep:
        others = others.where(WebSession.token_hash != _hash(keep))
    return (await session.execute(others)).rowcount or 0


async def reset_password(session: AsyncSession, *, login: str, password: str, now: datetime) -> int:
    """Set a new password and end every web session of that login; returns how many ended."""
    employee = await admins.set_password(session, login=login, password=password, now=now)
    return await end_all_of(session, employee.id)


async def unlock(session: AsyncSession, *, login: str, now: datetime) -> int:
    """Let `login` be tried again at once from anywhere it was slowed down (`crm admin unlock`)."""
    employee = await admins.by_login(session, login)
    cleared = await login_throttle.unlock(session, employee.login or login)
    await audit.log(
        session,
        action="admin.unlocked",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        login=employee.login,
        cleared=cleared,
    )
    return cleared
