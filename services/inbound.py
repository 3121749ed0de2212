"""The idempotency record of inbound deliveries: (source, external_id) is unique."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import InboundEvent
from services.clock import Clock


async def record(session: AsyncSession, *, source: str, external_id: str, clock: Clock) -> bool:
    """True for a first delivery; False when this event was already recorded.

    Runs in the caller's transaction: if the work that follows rolls back, so does the record,
    and the provider's retry is processed again. A concurrent duplicate waits on the unique
    index and then sees the row (PostgreSQL) or is serialised by the write lock (SQLite).
    """
    stmt = _statement(session.get_bind().dialect.name)
    params = {"source": source, "external_id": external_id[:200], "received_at": clock.now()}
    return (await session.execute(stmt, params)).scalar_one_or_none() is not None


@cache
def _statement(dialect: str) -> sa.Insert:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(InboundEvent.__table__).on_conflict_do_nothing().returning(InboundEvent.id)
