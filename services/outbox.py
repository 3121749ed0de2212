"""The outbox: the one place outgoing messages are written, claimed and settled.

Rows are written in the business transaction (`enqueue`) and delivered after commit by the
pump, which claims due rows in short transactions. A chat has one message in flight at a
time. Ordinary messages go out in order (edits of earlier messages don't hold new ones up);
interactive rows go first.

Rows of a coalesce group (new-lead cards) need no order among themselves and hold nothing
up: the newest goes first, so a new card overtakes a backlog, and a chat with a backlog of
COALESCE_FROM or more gets up to DIGEST_SIZE of them as one digest message (a line and a
button each) instead of one message a second. See README: "When cards pile up".
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
COALESCE_FROM = 3  # this many cards of one group waiting for one chat go out as a digest
DIGEST_SIZE = 20  # at most this many in one digest (lines and buttons fit Telegram's limits)
DIGEST_KIND = "digest"  # Claimed.kind of a digest; Claimed.payload["group"] names the group


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
    coalesce_group: str | None = None


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
            coalesce_group=m.coalesce_group,
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


_O = OutboxMessage.__table__
_OTHER = _O.alias("other")
_SAME_CHAT = sa.and_(_OTHER.c.channel == _O.c.channel, _OTHER.c.recipient == _O.c.recipient)
_DUE = sa.or_(
    sa.and_(
        _O.c.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)),
        _O.c.next_attempt_at <= sa.bindparam("now"),
    ),
    # a lease that expired: its sender died
    sa.and_(_O.c.status == OutboxStatus.SENDING, _O.c.claimed_until < sa.bindparam("now")),
)
# A chat has one new message in flight at a time (the per-chat rate limit would hold a second
# one anyway, and a card that is claimed early could not be overtaken any more).
_CHAT_BUSY = (
    sa.select(_OTHER.c.id)
    .where(
        _SAME_CHAT,
        _OTHER.c.id != _O.c.id,
        _OTHER.c.status == OutboxStatus.SENDING,
        _OTHER.c.claimed_until >= sa.bindparam("now"),
        _OTHER.c.edit_of_id.is_(None),
    )
    .exists()
)
# Ordinary messages keep their order: one waits for every older unsettled ordinary message
# of its chat. A new message never waits behind an edit of an earlier one (edits are
# rendered when sent, so their relative order does not matter); an edit waits for what
# came before it, its original included. Coalescible rows hold nobody up.
_WAITS_FOR_OLDER = (
    sa.select(_OTHER.c.id)
    .where(
        _SAME_CHAT,
        _OTHER.c.id < _O.c.id,
        _OTHER.c.status.in_(UNSETTLED),
        sa.or_(_OTHER.c.coalesce_group.is_(None), _O.c.edit_of_id.is_not(None)),
        sa.or_(_OTHER.c.edit_of_id.is_(None), _O.c.edit_of_id.is_not(None)),
    )
    .exists()
)
_COALESCIBLE = sa.and_(_O.c.coalesce_group.is_not(None), _O.c.edit_of_id.is_(None))
_DUE_ROWS = (
    sa.select(_O.c.id, _O.c.channel, _O.c.recipient, _COALESCIBLE.label("coalescible"))
    .where(_DUE, ~_WAITS_FOR_OLDER, ~_CHAT_BUSY)
    .order_by(
        # Interactive before bulk; new messages (a screen-pop card) before edits of earlier
        # ones (a card catching up with its call); ordinary messages oldest first, then the
        # coalescible ones newest first, so a new card overtakes a backlog.
        sa.case((_O.c.lane == OutboxLane.INTERACTIVE, 0), else_=1),
        sa.case((_O.c.edit_of_id.is_(None), 0), else_=1),
        sa.case((_COALESCIBLE, sa.literal(2**62) - _O.c.id), else_=_O.c.id),
    )
)
_CLAIMED_COLUMNS = (
    _O.c.id,
    _O.c.channel,
    _O.c.recipient,
    _O.c.thread_id,
    _O.c.kind,
    _O.c.locale,
    _O.c.payload,
    _O.c.entity_type,
    _O.c.entity_id,
    _O.c.edit_of_id,
    _O.c.attempts,
)


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int = 50, channel: Channel | None = None
) -> list[Claimed]:
    """Lease up to `limit` due messages (at most one per chat) for delivery; a digest of
    several coalesced rows counts as one message. Two round trips: look and lock, lease."""
    stmt = _DUE_ROWS.where(*([_O.c.channel == channel] if channel else []))
    stmt = stmt.limit(limit * 4)
    if session.get_bind().dialect.name == "postgresql":
        # Rows another claimer holds are skipped, not waited for; a row it leased and
        # committed meanwhile is re-checked by PostgreSQL and no longer due.
        stmt = stmt.with_for_update(skip_locked=True, of=_O)
    units: dict[tuple[str, str], list[int]] = {}
    coalescible: set[tuple[str, str]] = set()
    for row_id, row_channel, recipient, is_coalescible in (
        await session.execute(stmt, {"now": now})
    ).all():
        chat = (row_channel, recipient)
        if chat not in units:
            if len(units) == limit:
                continue
            units[chat] = [row_id]
            if is_coalescible:
                coalescible.add(chat)
        elif chat in coalescible and is_coalescible and len(units[chat]) < DIGEST_SIZE:
            units[chat].append(row_id)
    chosen = [
        ids if chat not in coalescible or len(ids) >= COALESCE_FROM else ids[:1]
        for chat, ids in units.items()
    ]
    return await _lease(session, chosen, now)


async def _lease(session: AsyncSession, units: list[list[int]], now: datetime) -> list[Claimed]:
    if not units:
        return []
    stmt = (
        sa.update(_O)
        .where(_O.c.id.in_([i for ids in units for i in ids]))
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + CLAIM_LEASE,
            attempts=_O.c.attempts + 1,
            coalesced_into_id=None,
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS, _O.c.coalesce_group)
    )
    rows = {row.id: row for row in (await session.execute(stmt)).all()}
    result = []
    for ids in units:
        head = rows[ids[0]]
        if len(ids) == 1:
            result.append(Claimed(*tuple(head)[:-1]))
            continue
        await session.execute(
            sa.update(_O).where(_O.c.id.in_(ids[1:])).values(coalesced_into_id=head.id)
        )
        members = [rows[i] for i in ids]  # newest first
        payload = {
            "group": head.coalesce_group,
            "entity_type": head.entity_type,
            "entity_ids": [m.entity_id for m in members],
        }
        attempts = max(m.attempts for m in members)
        result.append(
            Claimed(
                head.id,
                head.channel,
                head.recipient,
                head.thread_id,
                DIGEST_KIND,
                head.locale,
                payload,
                None,
                None,
                None,
                attempts,
            )
        )
    return sorted(result, key=lambda c: c.id)


async def mark_sent(
    session: AsyncSession, row_id: int, *, now: datetime, provider_message_id: str | None
) -> None:
    """The message went out. A digest's rows (the head included) are COALESCED: each was
    shown as a line of the digest, not as a message that could be edited later."""
    members = await _settle_members(
        session,
        row_id,
        status=OutboxStatus.COALESCED,
        sent_at=now,
        updated_at=now,
        provider_message_id=provider_message_id,
        claimed_until=None,
        last_error=None,
    )
    await _settle(
        session,
        row_id,
        status=OutboxStatus.COALESCED if members else OutboxStatus.SENT,
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
    values = dict(
        status=OutboxStatus.FAILED,
        last_error=error[:1000],
        next_attempt_at=now + timedelta(seconds=delay),
        claimed_until=None,
        updated_at=now,
    )
    # A digest's rows wait too, each on its own: the next claim groups them afresh.
    await _settle_members(session, row_id, **values)
    await _settle(session, row_id, **values)
    return OutboxStatus.FAILED


async def mark_dead(
    session: AsyncSession, row_id: int, *, now: datetime, error: str
) -> OutboxStatus:
    values = dict(
        status=OutboxStatus.DEAD, last_error=error[:1000], claimed_until=None, updated_at=now
    )
    await _settle_members(session, row_id, **values)  # the chat can't be reached (blocked)
    await _settle(session, row_id, **values)
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
    """The id of the message a row delivered on its own (None: not delivered, or only as a
    line of a digest, which has no message of its own to edit)."""
    stmt = sa.select(_O.c.provider_message_id).where(
        _O.c.id == row_id, _O.c.status == OutboxStatus.SENT
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _settle_members(session: AsyncSession, row_id: int, **values: Any) -> int:
    """Settle the rows coalesced into a digest carried by `row_id`; how many there were."""
    stmt = (
        sa.update(_O)
        .where(_O.c.coalesced_into_id == row_id, _O.c.status == OutboxStatus.SENDING)
        .values(coalesced_into_id=None, **values)
    )
    return (await session.execute(stmt)).rowcount or 0


async def _settle(session: AsyncSession, row_id: int, **values: Any) -> None:
    await session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
    )
