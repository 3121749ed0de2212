"""What became of the messages we sent: statuses that only move forward.

sent < delivered < read; `failed` only over pending or sent (a late `sent` never downgrades
`delivered` or `read`, and nothing follows `failed`). A status for a message id not on record
yet (the provider's webhook overtook our own record of the send) is kept as an early status
and applied when the send is recorded (services.conversations.delivery).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Direction, EarlyStatus, Message, MessageStatus
from models.db import insert_ignoring_conflicts
from models.prepared import Prepared
from services.conversations import notices
from services.conversations.inputs import StatusUpdate

# The statuses each status may replace.
_OVER = {
    MessageStatus.SENT: (MessageStatus.PENDING,),
    MessageStatus.DELIVERED: (MessageStatus.PENDING, MessageStatus.SENT),
    MessageStatus.READ: (MessageStatus.PENDING, MessageStatus.SENT, MessageStatus.DELIVERED),
    MessageStatus.FAILED: (MessageStatus.PENDING, MessageStatus.SENT),
}
_ORDER = [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED]


async def record(
    session: AsyncSession, updates: list[StatusUpdate], *, now: datetime, default_locale: str
) -> int:
    """Apply the updates (in any order); returns how many changed a message."""
    changed = 0
    for update in sorted(updates, key=lambda u: (u.at, _ORDER.index(u.status))):
        await lock(session, update.channel, update.message_id)
        message_id = await _apply(session, update)
        if message_id is None:
            if not await _known(session, update):
                await _keep_early(session, update)
            continue
        changed += 1
        await notices.status_changed(
            session, message_id, update.status, now=now, default_locale=default_locale
        )
    return changed


async def lock(session: AsyncSession, channel: str, provider_message_id: str) -> None:
    """On PostgreSQL, a status and the record of the send it is about are written one after
    the other: otherwise a status arriving while the send is being recorded would find no
    message, be kept as early after that record applied the early ones, and wait forever.
    (SQLite serialises every writer already.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"status:{channel}:{provider_message_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await _LOCK.all(session, {"key": key})


_LOCK = Prepared(sa.select(sa.func.pg_advisory_xact_lock(sa.bindparam("key", type_=sa.BigInteger))))


async def _apply(session: AsyncSession, update: StatusUpdate) -> int | None:
    if update.status not in _OVER:
        return None
    t = Message.__table__
    error = None
    if update.status is MessageStatus.FAILED:
        error = f"[{update.error_code}] {update.error or ''}".strip()[:500]
    stmt = (
        sa.update(t)
        .where(
            t.c.channel == update.channel,
            t.c.provider_message_id == update.message_id,
            t.c.direction == Direction.OUT,
            t.c.status.in_(_OVER[update.status]),
        )
        .values(status=update.status, status_at=update.at, error=error, updated_at=update.at)
        .returning(t.c.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _known(session: AsyncSession, update: StatusUpdate) -> bool:
    t = Message.__table__
    stmt = sa.select(t.c.id).where(
        t.c.channel == update.channel, t.c.provider_message_id == update.message_id
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def _keep_early(session: AsyncSession, update: StatusUpdate) -> None:
    await session.execute(
        insert_ignoring_conflicts(session, EarlyStatus.__table__),
        dict(
            channel=update.channel,
            provider_message_id=update.message_id[:200],
            status=update.status,
            at=update.at,
            error_code=update.error_code,
            error=(update.error or "")[:500] or None,
        ),
    )


async def apply_early(
    session: AsyncSession,
    channel: str,
    provider_message_id: str,
    *,
    now: datetime,
    default_locale: str,
) -> None:
    """The send of `provider_message_id` is on record now: the statuses that came first."""
    rows = await _TAKE_EARLY.all(
        session, {"channel": channel, "provider_message_id": provider_message_id}
    )
    updates = [
        StatusUpdate(
            channel, provider_message_id, MessageStatus(r.status), r.at, r.error_code, r.error
        )
        for r in rows
    ]
    await record(session, updates, now=now, default_locale=default_locale)


_E = EarlyStatus.__table__
# Run for every reply sent: compiled once.
_TAKE_EARLY = Prepared(
    sa.delete(_E)
    .where(
        _E.c.channel == sa.bindparam("channel", type_=_E.c.channel.type),
        _E.c.provider_message_id == sa.bindparam("provider_message_id"),
    )
    .returning(_E.c.status, _E.c.at, _E.c.error_code, _E.c.error)
)
EARLY_KEPT = timedelta(days=7)  # a send is recorded within seconds; a week is generous


async def forget_early_statuses(session: AsyncSession, *, now: datetime) -> int:
    """Statuses that never found their message (those of texts the product itself sent, such
    as the auto-reply, which are not messages of the conversation) are kept a week."""
    e = EarlyStatus.__table__
    stmt = sa.delete(e).where(e.c.at < now - EARLY_KEPT)
    return (await session.execute(stmt)).rowcount
