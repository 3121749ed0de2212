"""Bulk changes as the admin web shows them: one operation's page, the list of recent ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Employee
from services import access
from services.actors import Actor
from services.bulk.engine import _OP
from services.bulk.undoing import Undone
from services.errors import NotFound


@dataclass(frozen=True)
class OperationView:
    id: int
    at: datetime
    action: str
    entity_type: str
    actor: str
    count: int
    counts: dict[str, int]  # what moved, by kind (the chosen and what went along)
    to_name: str
    params: dict[str, Any]  # the action's own (a stage's name)
    undo_until: datetime
    undone_at: datetime | None
    undone_by: str | None
    undone: Undone | None  # what undo put back and kept (from its audit entry)

    def can_undo(self, now: datetime) -> bool:
        return self.undone_at is None and now < self.undo_until


async def operation(session: AsyncSession, op_id: int, *, by: Actor) -> OperationView:
    """One operation as its page shows it; NotFound for someone who may not see it."""
    found = await _views(session, by, op_id=op_id, limit=1)
    if not found:
        raise NotFound(f"no bulk operation {op_id}", key="web.not_found")
    return found[0]


async def recent(session: AsyncSession, *, by: Actor, limit: int = 50) -> list[OperationView]:
    """The newest operations `by` may see (their own; an admin's: everyone's)."""
    return await _views(session, by, limit=limit)


async def _views(
    session: AsyncSession, by: Actor, *, op_id: int | None = None, limit: int
) -> list[OperationView]:
    e = Employee.__table__
    actor, undoer = e.alias("actor"), e.alias("undoer")
    undone = AuditEntry.__table__.alias("undone")
    stmt = (
        sa.select(
            _OP,
            actor.c.name.label("actor_name"),
            undoer.c.name.label("undoer_name"),
            undone.c.data.label("undo_data"),
        )
        .join(actor, actor.c.id == _OP.c.actor_id)
        .outerjoin(undoer, undoer.c.id == _OP.c.undone_by_id)
        .outerjoin(
            undone,
            sa.and_(
                undone.c.entity_type == "bulk",
                undone.c.entity_id == _OP.c.id,
                undone.c.action == "bulk.undone",
            ),
        )
        .order_by(_OP.c.id.desc())
        .limit(limit)
    )
    if op_id is not None:
        stmt = stmt.where(_OP.c.id == op_id)
    if not access.sees_every_bulk(by):  # their own only
        stmt = stmt.where(_OP.c.actor_id == by.id)
    return [
        OperationView(
            id=row.id,
            at=row.at,
            action=row.action,
            entity_type=row.entity_type,
            actor=row.actor_name,
            count=row.count,
            counts=dict(row.params.get("counts", {})),
            to_name=row.params.get("to_name", ""),
            params=dict(row.params),
            undo_until=row.undo_until,
            undone_at=row.undone_at,
            undone_by=row.undoer_name,
            undone=Undone(row.undo_data["back"], row.undo_data["kept"]) if row.undo_data else None,
        )
        for row in (await session.execute(stmt)).all()
    ]
