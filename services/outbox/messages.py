"""Outbox rows: what a message is, and writing them (the only writer is `enqueue`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, OutboxLane, OutboxMessage, OutboxStatus
from models.db import OUTBOX_DIRTY, insert_ignoring, insert_ignoring_conflicts
from models.prepared import Prepared

UNSETTLED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
# A claim lasts this long unless its holder extends it (the pump does, every few seconds, while
# a row is in its hands). It is what a killed process's rows wait out before another takes them.
CLAIM_LEASE = timedelta(seconds=20)
MAX_ATTEMPTS = 12
COALESCE_FROM = 3  # this many cards of one group waiting for one chat go out as a digest
DIGEST_SIZE = 20  # at most this many in one digest (lines and buttons fit Telegram's limits)
DIGEST_KIND = "digest"  # Claimed.kind of a digest; Claimed.payload["group"] names the group


def chat_of(recipient: str) -> str:
    """The provider's chat a row goes to. A recipient "chat/part" is a part of that chat with
    an order of its own (a forum topic of a group: its messages wait for one another, not
    for the other topics'), sharing the chat's rate limits."""
    return recipient.partition("/")[0]


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
    lane: OutboxLane = OutboxLane.INTERACTIVE


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
    if len(rows) == 1:  # a screen's one message: a prepared statement (the hot path)
        insert = _insert_one(session.get_bind().dialect.name, tuple(rows[0]))
        written = await insert.all(session, rows[0])
    else:
        o = OutboxMessage.__table__
        stmt = insert_ignoring_conflicts(session, o).returning(o.c.id, o.c.dedupe_key)
        written = list((await session.execute(stmt, rows)).all())
    if written:
        session.info[OUTBOX_DIRTY] = True
        await _reshaped(session, len(written))
    by_key: dict[str, int] = {key: row_id for row_id, key in written if key is not None}
    unkeyed = iter(sorted(row_id for row_id, key in written if key is None))
    return [by_key.get(m.dedupe_key) if m.dedupe_key else next(unkeyed) for m in messages]


# A write this large changes the table's shape for the planner at once: a broadcast of
# thousands to a table it last saw nearly empty would otherwise be claimed with plans made for
# a few rows (each look reading the whole recipient index) until autovacuum caught up.
RESHAPING = 1000


async def _reshaped(session: AsyncSession, written: int) -> None:
    """Fresh statistics for the outbox after a large write (PostgreSQL; in the writer's own
    transaction, which ANALYZE sees as live rows). Cached plans are made again from them."""
    if written >= RESHAPING and session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.text("ANALYZE outbox"))


@cache  # one per backend (the columns are always enqueue_many's)
def _insert_one(dialect: str, columns: tuple[str, ...]) -> Prepared:
    o = OutboxMessage.__table__
    values = {name: sa.bindparam(name, type_=o.c[name].type) for name in columns}
    insert = insert_ignoring(dialect, o).values(values).returning(o.c.id, o.c.dedupe_key)
    return Prepared(insert)
