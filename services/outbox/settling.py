"""Recording what became of a claimed row: sent, retried, dead, handed back, kept."""

from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxMessage, OutboxStatus
from models.prepared import Prepared
from services.outbox.messages import CLAIM_LEASE, MAX_ATTEMPTS

_O = OutboxMessage.__table__


async def mark_sent(
    session: AsyncSession,
    row_id: int,
    *,
    now: datetime,
    provider_message_id: str | None,
    digest: bool = False,
) -> None:
    """The message went out. A digest's rows (the head included) are COALESCED: each was
    shown as a line of the digest, not as a message that could be edited later."""
    await _settle(
        session,
        row_id,
        digest=digest,
        status=OutboxStatus.COALESCED if digest else OutboxStatus.SENT,
        sent_at=now,
        updated_at=now,
        provider_message_id=provider_message_id,
        claimed_until=None,
        last_error=None,
    )


async def mark_retry(
    session: AsyncSession,
    row_id: int,
    *,
    now: datetime,
    attempts: int,
    error: str,
    retry_after: float | None = None,
    digest: bool = False,
) -> OutboxStatus:
    """Schedule another attempt (honouring the provider's retry_after), or give up. A
    digest's rows wait each on its own: the next claim groups them afresh."""
    if retry_after is None and attempts >= MAX_ATTEMPTS:
        return await mark_dead(session, row_id, now=now, error=error, digest=digest)
    delay = retry_after if retry_after is not None else backoff_seconds(attempts)
    await _settle(
        session,
        row_id,
        digest=digest,
        status=OutboxStatus.FAILED,
        last_error=error[:1000],
        next_attempt_at=now + timedelta(seconds=delay),
        claimed_until=None,
        updated_at=now,
    )
    return OutboxStatus.FAILED


async def mark_dead(
    session: AsyncSession, row_id: int, *, now: datetime, error: str, digest: bool = False
) -> OutboxStatus:
    """Give up (a digest's rows too: the chat cannot be reached)."""
    await _settle(
        session,
        row_id,
        digest=digest,
        status=OutboxStatus.DEAD,
        last_error=error[:1000],
        claimed_until=None,
        updated_at=now,
    )
    return OutboxStatus.DEAD


async def extend_leases(
    session: AsyncSession, claims: list[tuple[int, int]], *, now: datetime
) -> int:
    """Keep `(id, attempts)` claims (still ours: same attempt, still sending) leased."""
    return await _for_claims(session, claims, claimed_until=now + CLAIM_LEASE, updated_at=now)


async def release(
    session: AsyncSession, claims: list[tuple[int, int]], *, now: datetime, after: float = 0.0
) -> int:
    """Hand back claims whose attempt did not finish (or did not start): due at once (or
    `after` seconds), the attempt not counted."""
    o = OutboxMessage.__table__
    return await _for_claims(
        session,
        claims,
        status=sa.case(
            (o.c.attempts <= 1, sa.literal(OutboxStatus.PENDING, o.c.status.type)),
            else_=sa.literal(OutboxStatus.FAILED, o.c.status.type),
        ),
        attempts=o.c.attempts - 1,
        next_attempt_at=now + timedelta(seconds=after),
        claimed_until=None,
        updated_at=now,
    )


async def retry_now(session: AsyncSession, ids: list[int], *, now: datetime) -> int:
    """Make rows waiting out a backoff due at once (the provider answers again)."""
    if not ids:
        return 0
    o = OutboxMessage.__table__
    stmt = (
        sa.update(o)
        .where(o.c.id.in_(ids), o.c.status == OutboxStatus.FAILED, o.c.next_attempt_at > now)
        .values(next_attempt_at=now, updated_at=now)
    )
    return (await session.execute(stmt)).rowcount


async def _for_claims(session: AsyncSession, claims: list[tuple[int, int]], **values: Any) -> int:
    # `attempts` grows with every claim, so (id, attempts) names one claim: a row settled or
    # claimed again by someone else since is left alone.
    if not claims:
        return 0
    o = OutboxMessage.__table__
    # A digest's rows follow the claim of the row carrying it.
    mine = sa.or_(
        *(sa.or_(sa.and_(o.c.id == i, o.c.attempts == a), _carried_by(i)) for i, a in claims)
    )
    stmt = sa.update(o).where(mine, o.c.status == OutboxStatus.SENDING).values(**values)
    return (await session.execute(stmt)).rowcount


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 … seconds, capped at 5 minutes, with jitter so retries don't stampede."""
    base = min(2 ** max(attempts - 1, 0), 300)
    return base * random.uniform(0.8, 1.2)


async def provider_message_id(session: AsyncSession, row_id: int) -> str | None:
    """The id of the message a row delivered on its own (None: not delivered, or only as a
    line of a digest, which has no message of its own to edit)."""
    stmt = sa.select(_O.c.provider_message_id).where(
        _O.c.id == row_id, _O.c.status == OutboxStatus.SENT
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _carried_by(row_id: int) -> sa.ColumnElement[bool]:
    """The rows a digest carried by `row_id` stands for, while it is being sent."""
    return sa.and_(_O.c.coalesced_into_id == row_id, _O.c.status == OutboxStatus.SENDING)


async def _settle(session: AsyncSession, row_id: int, *, digest: bool, **values: Any) -> None:
    """One statement: the row, and with a digest the rows it carried."""
    if digest:
        which = sa.or_(_O.c.id == row_id, _carried_by(row_id))
        await session.execute(sa.update(_O).where(which).values(**values))
        return
    await _one_row(tuple(sorted(values))).all(session, {**values, "row_id": row_id})


@functools.cache
def _one_row(columns: tuple[str, ...]) -> Prepared:
    """Recording one row's result (every delivery does): compiled once per set of columns."""
    values = {name: sa.bindparam(name, type_=_O.c[name].type) for name in columns}
    return Prepared(sa.update(_O).where(_O.c.id == sa.bindparam("row_id")).values(values))
