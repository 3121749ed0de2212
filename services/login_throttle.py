"""A brake on guessing admin passwords that a guesser cannot turn into a lock-out.

Failures are counted per (login, client address), and more loosely per address across all
logins (password spraying). Once a pair has had FREE_PAIR_FAILURES failures, every further
failure makes the next attempt from that pair wait 2^n seconds (n = failures beyond the free
ones), capped at MAX_DELAY; an address gets FREE_ADDRESS_FAILURES across logins before the same
growth. Nothing here is keyed by the login alone, so failures from one address never slow the
same login from another. Counts are forgotten after FORGET_AFTER without a failure, when the
pair signs in, or by `crm admin unlock`. The rows live in the database, shared by every process.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models import LoginThrottle
from models.login_throttle import ANY_LOGIN

FREE_PAIR_FAILURES = 3
FREE_ADDRESS_FAILURES = 20
MAX_DELAY = timedelta(minutes=10)
FORGET_AFTER = timedelta(hours=1)
UNKNOWN_ADDRESS = "unknown"
_KEY_LENGTH = 64  # the columns' length; a longer typed login matches no account anyway


def _key(value: str | None) -> str:
    return (value or UNKNOWN_ADDRESS)[:_KEY_LENGTH]


def delay_after(failures: int, free: int) -> timedelta:
    """How long the next attempt waits after `failures` failures, the first `free` costing none."""
    excess = failures - free
    if excess <= 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(excess, 20)), MAX_DELAY)


async def begin_attempt(
    session: AsyncSession, *, login: str, address: str | None, now: datetime
) -> int:
    """Start judging an attempt: the seconds it must still wait (0: check the password).

    Attempts from one address are judged one after another: otherwise a burst of parallel
    guesses would all be checked before the first failure is counted. On PostgreSQL a
    transaction-scoped advisory lock on the address does that; SQLite's BEGIN IMMEDIATE
    already serialises every transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"login-throttle:{_key(address)}".encode()).digest()
        lock = int.from_bytes(digest[:8], "big", signed=True)
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock)))
    return await wait_left(session, login=login, address=address, now=now)


async def wait_left(
    session: AsyncSession, *, login: str, address: str | None, now: datetime
) -> int:
    """Whole seconds before `login` may be tried from `address` (0: it may be tried now)."""
    stmt = sa.select(sa.func.max(LoginThrottle.blocked_until)).where(
        LoginThrottle.address == _key(address),
        LoginThrottle.login.in_([_key(login), ANY_LOGIN]),
    )
    until = (await session.execute(stmt)).scalar()
    if until is None or until <= now:
        return 0
    return math.ceil((until - now).total_seconds())


async def record_failure(
    session: AsyncSession, *, login: str, address: str | None, now: datetime
) -> None:
    """Count a wrong password for the pair and for the address; set their next waits."""
    for row_login, free in ((_key(login), FREE_PAIR_FAILURES), (ANY_LOGIN, FREE_ADDRESS_FAILURES)):
        failures = await _count_failure(session, row_login, _key(address), now)
        wait = delay_after(failures, free)
        await session.execute(
            sa.update(LoginThrottle)
            .where(LoginThrottle.login == row_login, LoginThrottle.address == _key(address))
            .values(blocked_until=now + wait if wait else None)
        )


async def record_success(session: AsyncSession, *, login: str, address: str | None) -> None:
    """The pair got in: its count starts again (the address's own count stays)."""
    await session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.login == _key(login), LoginThrottle.address == _key(address)
        )
    )


async def unlock(session: AsyncSession, login: str) -> int:
    """Forget every count that could stop `login`: its own, and those of the addresses it was
    tried from. Returns how many rows were cleared."""
    addresses = sa.select(LoginThrottle.address).where(LoginThrottle.login == _key(login))
    result = await session.execute(
        sa.delete(LoginThrottle).where(
            sa.or_(
                LoginThrottle.login == _key(login),
                sa.and_(LoginThrottle.login == ANY_LOGIN, LoginThrottle.address.in_(addresses)),
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _count_failure(session: AsyncSession, login: str, address: str, now: datetime) -> int:
    """Add one failure to the row (starting again after FORGET_AFTER) and return the count.

    One upsert, so concurrent failures in several processes are all counted.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    fresh = LoginThrottle.last_failure_at > now - FORGET_AFTER
    stmt = (
        dialect.insert(LoginThrottle)
        .values(login=login, address=address, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["login", "address"],
            set_={
                "failures": sa.case((fresh, LoginThrottle.failures + 1), else_=1),
                "last_failure_at": now,
            },
        )
        .returning(LoginThrottle.failures)
    )
    return int((await session.execute(stmt)).scalar_one())
