"""What the admin web shows of broadcasts: the recent ones, and one with its live progress
(counted from its messages' statuses, which the outbox and the provider's statuses move)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Broadcast, Employee, Message, MessageStatus
from services import access
from services.actors import Actor
from services.errors import NotFound

_B, _M = Broadcast.__table__, Message.__table__


@dataclass(frozen=True)
class Progress:
    """The messages of a broadcast by where they got to (read ones count as delivered)."""

    waiting: int = 0  # not sent yet
    sent: int = 0  # the provider took it, no receipt yet
    delivered: int = 0
    failed: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)  # failures, commonest first

    @property
    def done(self) -> bool:
        return self.waiting == 0

    @property
    def handled(self) -> int:
        return self.sent + self.delivered + self.failed


@dataclass(frozen=True)
class BroadcastView:
    id: int
    at: datetime
    by: str
    channel: str
    text: str
    template: str | None
    segment: dict[str, Any]
    counts: dict[str, int]  # the audience by outcome, frozen at start
    progress: Progress


async def view(session: AsyncSession, broadcast_id: int, *, by: Actor) -> BroadcastView:
    """NotFound for no such broadcast, or another office's (a manager's URL by hand)."""
    access.require_bulk(by)
    found = await _rows(session, by, _B.c.id == broadcast_id, limit=1)
    if not found:
        raise NotFound(f"no broadcast {broadcast_id}", key="web.not_found")
    return found[0]


async def recent(session: AsyncSession, *, by: Actor, limit: int = 50) -> list[BroadcastView]:
    access.require_bulk(by)
    return await _rows(session, by, sa.true(), limit=limit)


async def _rows(
    session: AsyncSession, by: Actor, where: sa.ColumnElement[bool], *, limit: int
) -> list[BroadcastView]:
    stmt = (
        sa.select(_B, Employee.name.label("by_name"))
        .join(Employee, Employee.id == _B.c.actor_id)
        .where(where)
        .order_by(_B.c.id.desc())
        .limit(limit)
    )
    office = access.office_limit(by)
    if office is not None:
        stmt = stmt.where(_B.c.office_id == office)
    rows = (await session.execute(stmt)).all()
    progress = await _progress(session, [r.id for r in rows])
    return [
        BroadcastView(
            r.id,
            r.at,
            r.by_name,
            str(r.channel),
            r.text,
            r.template,
            r.segment,
            r.counts,
            progress.get(r.id, Progress()),
        )
        for r in rows
    ]


async def _progress(session: AsyncSession, ids: list[int]) -> dict[int, Progress]:
    if not ids:
        return {}
    by_status = (
        await session.execute(
            sa.select(_M.c.broadcast_id, _M.c.status, sa.func.count())
            .where(_M.c.broadcast_id.in_(ids))
            .group_by(_M.c.broadcast_id, _M.c.status)
        )
    ).all()
    reasons = (
        await session.execute(
            sa.select(_M.c.broadcast_id, _M.c.error, sa.func.count())
            .where(_M.c.broadcast_id.in_(ids), _M.c.status == MessageStatus.FAILED)
            .group_by(_M.c.broadcast_id, _M.c.error)
            .order_by(sa.func.count().desc())
        )
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for broadcast_id, status, n in by_status:
        bucket = _BUCKETS.get(MessageStatus(status), "waiting")
        mine = counts.setdefault(broadcast_id, {})
        mine[bucket] = mine.get(bucket, 0) + n
    why: dict[int, list[tuple[str, int]]] = {}
    for broadcast_id, error, n in reasons:
        why.setdefault(broadcast_id, []).append((error or "", n))
    return {
        broadcast_id: Progress(**mine, reasons=why.get(broadcast_id, [])[:5])
        for broadcast_id, mine in counts.items()
    }


_BUCKETS = {
    MessageStatus.PENDING: "waiting",
    MessageStatus.SENT: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.READ: "delivered",
    MessageStatus.FAILED: "failed",
}
