"""Logging in to the admin web: password check, server-side sessions, brute-force brake."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Employee, Role, WebSession
from services import audit, employees
from services.errors import AccessDenied, DomainError, InvalidInput

SESSION_TTL = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
WEB_ROLES = (Role.ADMIN,)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginOutcome:
    token: str | None = None
    error: DomainError | None = None


async def log_in(
    session: AsyncSession, *, login: str, password: str, now: datetime
) -> LoginOutcome:
    """A new session token for a valid admin login, or the reason there is none.

    A failure is returned, not raised, so that its audit entry is committed: after
    MAX_FAILURES wrong passwords for a login within FAILURE_WINDOW, further attempts are
    refused until the window passes (counted from audit entries, shared by all processes).
    """
    login = login.strip()
    if not login or not password:
        error = InvalidInput("enter the login and the password", key="web.login_empty")
        return LoginOutcome(error=error)
    if await _recent_failures(session, login, now) >= MAX_FAILURES:
        error = AccessDenied("too many failed attempts; try again later", key="web.login_locked")
        return LoginOutcome(error=error)
    employee = await employees.check_password(session, login=login, password=password)
    if employee is None or employee.role not in WEB_ROLES:
        await audit.log(
            session,
            action="web.login_failed",
            entity_type="login",
            entity_id=None,
            at=now,
            login=login,
        )
        return LoginOutcome(error=AccessDenied("wrong login or password", key="web.login_wrong"))
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_hash(token),
            employee_id=employee.id,
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    await audit.log(
        session,
        action="web.login",
        entity_type="employee",
        entity_id=employee.id,
        at=now,
        actor_id=employee.id,
        actor_kind="admin",
    )
    return LoginOutcome(token=token)


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


async def _recent_failures(session: AsyncSession, login: str, now: datetime) -> int:
    stmt = sa.select(sa.func.count()).where(
        AuditEntry.action == "web.login_failed",
        AuditEntry.entity_type == "login",
        AuditEntry.at > now - FAILURE_WINDOW,
        AuditEntry.data["login"].as_string() == login,
    )
    return (await session.execute(stmt)).scalar_one()
