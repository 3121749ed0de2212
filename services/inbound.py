"""The idempotency record of inbound deliveries: (source, external_id) is unique."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import InboundEvent
from models.db import insert_ignoring_conflicts
from services.clock import Clock


async def record(session: AsyncSession, *, source: str, external_id: str, clock: Clock) -> bool:
    """True for a first delivery; False when this event was already recorded.

    Runs in the caller's transaction: if the work that follows rolls back, so does the record,
    and the provider's retry is processed again. A concurrent duplicate waits on the unique
    index and then sees the row (PostgreSQL) or is serialised by the write lock (SQLite).
    """
    stmt = (
        insert_ignoring_conflicts(session, InboundEvent.__table__)
        .values(source=source, external_id=external_id[:200], received_at=clock.now())
        .returning(InboundEvent.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None
