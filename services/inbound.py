"""The idempotency record of inbound deliveries: (source, external_id) is unique."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import InboundEvent
from models.prepared import Prepared
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


async def record_with(
    session: AsyncSession,
    *,
    source: str,
    external_id: str,
    clock: Clock,
    along: tuple[sa.Select[Any], dict[str, Any]] | None,
) -> tuple[bool, Any]:
    """`record`, and the first row of `along` (a statement and its parameters) read in the
    same round trip on PostgreSQL (its INSERT runs in a WITH clause), so an entry point that
    needs both pays for one. The row is None for a repeated delivery."""
    if along is None:
        return await record(session, source=source, external_id=external_id, clock=clock), None
    select, params = along
    if session.get_bind().dialect.name != "postgresql":
        first = await record(session, source=source, external_id=external_id, clock=clock)
        return first, (await session.execute(select, params)).first() if first else None
    params = params | {
        "source": source,
        "external_id": external_id[:200],
        "received_at": clock.now(),
    }
    [row] = await _recording_with(select).all(session, params)
    if row.recorded_id is None:
        return False, None
    return True, row


@cache  # one per `along` statement (each is built once by its owner)
def _recording_with(along: sa.Select[Any]) -> Prepared:
    """`WITH recorded AS (INSERT … ON CONFLICT DO NOTHING RETURNING id) SELECT (SELECT id
    FROM recorded) AS recorded_id, along.* FROM (SELECT 1) LEFT JOIN (along LIMIT 1) ON true`
    """
    inserted = (
        _statement("postgresql")
        .values(
            source=sa.bindparam("source"),
            external_id=sa.bindparam("external_id"),
            received_at=sa.bindparam("received_at"),
        )
        .cte("recorded")
    )
    wanted = along.limit(1).subquery("along")
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    return Prepared(
        sa.select(
            sa.select(inserted.c.id).scalar_subquery().label("recorded_id"), *wanted.c
        ).select_from(one.outerjoin(wanted, sa.true()))
    )
