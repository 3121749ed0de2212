"""The outbox: the one place outgoing messages are written, claimed and settled.

Rows are written in the business transaction (`enqueue`) and delivered after commit by the
pump, which claims due rows in short transactions. Per recipient only the oldest unsettled
new message is claimable, so a chat receives its messages in order (edits of earlier
messages don't hold new ones up); interactive rows go first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, OutboxLane, OutboxMessage, OutboxStatus
from models.db import OUTBOX_DIRTY, insert_ignoring_conflicts

UNSETTLED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
# A claim lasts this long unless its holder extends it (the pump does, every few seconds, while
# a row is in its hands). It is what a killed process's rows wait out before another takes them.
CLAIM_LEASE = timedelta(seconds=20)
MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: Channel
    recipient: str
    thread_id: int | None
    kind: str
    locale: str
    payload: dict[str, Any]
    entity_type: str | None
    entity_id: int | None
    edit_of_id: int | None
    attempts: int


@dataclass(frozen=True)
class Outgoing:
    """One message to write: addressing, content, and how to find or dedupe it later."""

    channel: Channel
    recipient: str | int
    kind: str
    payload: dict[str, Any]
    locale: str = "ru"
    lane: OutboxLane = OutboxLane.INTERACTIVE
    dedupe_key: str | None = None
    entity: tuple[str, int] | None = None
    thread_id: int | None = None
    edit_of_id: int | None = None


async def enqueue(session: AsyncSession, *, now: datetime, **message: Any) -> int | None:
    """Write one outgoing message; returns its id, or None if `dedupe_key` was already used."""
    [row_id] = await enqueue_many(session, [Outgoing(**message)], now=now)
    return row_id


async def enqueue_many(
    session: AsyncSession, messages: list[Outgoing], *, now: datetime
) -> list[int | None]:
    """Write several messages in one statement (ids in order; None for a used dedupe_key)."""
    if not messages:
        return []
    rows = [
        dict(
            channel=m.channel,
            recipient=str(m.recipient),
            kind=m.kind,
            payload=m.payload,
            locale=m.locale,
            lane=m.lane,
            dedupe_key=m.dedupe_key,
            thread_id=m.thread_id,
            edit_of_id=m.edit_of_id,
            entity_type=m.entity[0] if m.entity else None,
            entity_id=m.entity[1] if m.entity else None,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        for m in messages
    ]
    o = OutboxMessage.__table__
    stmt = insert_ignoring_conflicts(session, o).returning(o.c.id, o.c.dedupe_key)
    written = (await session.execute(stmt, rows)).all()
    if written:
        session.info[OUTBOX_DIRTY] = True
    by_key = {key: row_id for row_id, key in written if key is not None}
    unkeyed = iter(sorted(row_id for row_id, key in written if key is None))
    return [by_key.get(m.dedupe_key) if m.dedupe_key else next(unkeyed) for m in messages]


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int = 50, channel: Channel | None = None
) -> list[Claimed]:
    """Lease up to `limit` due rows (at most one per recipient) for delivery."""
    o = OutboxMessage.__table__
    older = o.alias("older")
    blocked_by_older = (
        sa.select(older.c.id)
        .where(
            older.c.channel == o.c.channel,
            older.c.recipient == o.c.recipient,
            older.c.id < o.c.id,
            older.c.status.in_(UNSETTLED),
            # A new message never waits behind an edit of an earlier one (edits are rendered
            # when sent, so their relative order does not matter); an edit waits for what
            # came before it, its original included.
            sa.or_(older.c.edit_of_id.is_(None), o.c.edit_of_id.is_not(None)),
        )
        .exists()
    )
    due = sa.or_(
        sa.and_(
            o.c.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)), o.c.next_attempt_at <= now
        ),
        sa.and_(o.c.status == OutboxStatus.SENDING, o.c.claimed_until < now),  # lease expired
    )
    candidates = (
        sa.select(o.c.id)
        .where(due, ~blocked_by_older, *([o.c.channel == channel] if channel else []))
        # Interactive before bulk; within a lane new messages (a screen-pop card) before
        # edits of earlier ones (a card catching up with its call), oldest first.
        .order_by(
            sa.case((o.c.lane == OutboxLane.INTERACTIVE, 0), else_=1),
            sa.case((o.c.edit_of_id.is_(None), 0), else_=1),
            o.c.id,
        )
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=o)
    ids = list((await session.execute(candidates)).scalars())
    if not ids:
        return []
    stmt = (
        sa.update(o)
        .where(o.c.id.in_(ids))
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + CLAIM_LEASE,
            attempts=o.c.attempts + 1,
            updated_at=now,
        )
        .returning(
            o.c.id,
            o.c.channel,
            o.c.recipient,
            o.c.thread_id,
            o.c.kind,
            o.c.locale,
            o.c.payload,
            o.c.entity_type,
            o.c.entity_id,
            o.c.edit_of_id,
            o.c.attempts,
        )
    )
    rows = (await session.execute(stmt)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


async def mark_sent(
    session: AsyncSession, row_id: int, *, now: datetime, provider_message_id: str | None
) -> None:
    await _settle(
        session,
        row_id,
        status=OutboxStatus.SENT,
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
) -> OutboxStatus:
    """Schedule another attempt (honouring the provider's retry_after), or give up."""
    if retry_after is None and attempts >= MAX_ATTEMPTS:
        return await mark_dead(session, row_id, now=now, error=error)
    delay = retry_after if retry_after is not None else backoff_seconds(attempts)
    await _settle(
        session,
        row_id,
        status=OutboxStatus.FAILED,
        last_error=error[:1000],
        next_attempt_at=now + timedelta(seconds=delay),
        claimed_until=None,
        updated_at=now,
    )
    return OutboxStatus.FAILED


async def mark_dead(
    session: AsyncSession, row_id: int, *, now: datetime, error: str
) -> OutboxStatus:
    await _settle(
        session,
        row_id,
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


async def release(session: AsyncSession, claims: list[tuple[int, int]], *, now: datetime) -> int:
    """Hand back claims whose attempt did not finish: due at once, the attempt not counted."""
    o = OutboxMessage.__table__
    return await _for_claims(
        session,
        claims,
        status=sa.case(
            (o.c.attempts <= 1, sa.literal(OutboxStatus.PENDING, o.c.status.type)),
            else_=sa.literal(OutboxStatus.FAILED, o.c.status.type),
        ),
        attempts=o.c.attempts - 1,
        next_attempt_at=now,
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
    mine = sa.or_(*(sa.and_(o.c.id == i, o.c.attempts == a) for i, a in claims))
    stmt = sa.update(o).where(mine, o.c.status == OutboxStatus.SENDING).values(**values)
    return (await session.execute(stmt)).rowcount


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 … seconds, capped at 5 minutes, with jitter so retries don't stampede."""
    base = min(2 ** max(attempts - 1, 0), 300)
    return base * random.uniform(0.8, 1.2)


async def provider_message_id(session: AsyncSession, row_id: int) -> str | None:
    stmt = sa.select(OutboxMessage.provider_message_id).where(OutboxMessage.id == row_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _settle(session: AsyncSession, row_id: int, **values: Any) -> None:
    await session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
    )
