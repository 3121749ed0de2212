"""Undoing a bulk change within 24 hours: what it moved goes back unless changed since (by
someone, or by a later bulk change); each person told once. Actions other than reassign
register their own way back in `UNDOERS` (services.bulk.stages, services.bulk.tasks)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import BulkOperation
from services import access, audit
from services.actors import Actor
from services.bulk.engine import _OP, _R, FOLLOW, REASSIGN, ids, tell
from services.bulk.kinds import KINDS, Kind
from services.context import Company
from services.errors import Conflict, NotFound


@dataclass(frozen=True)
class Undone:
    back: dict[str, int]  # put back, by kind
    kept: dict[str, int]  # changed since (another holder, closed): left as they are


# How an operation is undone, by its action: (session, operation, by, now) → what was put back
# and the summaries' (employee, event, counts); actions other than reassign register here.
Undoer = Callable[
    [AsyncSession, BulkOperation, Actor, datetime],
    Awaitable[tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]],
]


UNDOERS: dict[str, Undoer] = {}


async def undo(session: AsyncSession, op_id: int, *, by: Actor, company: Company) -> Undone:
    """Put back what operation `op_id` changed and what nobody has changed since."""
    op = await session.get(BulkOperation, op_id, with_for_update=True)
    if op is None or not access.can_see_bulk(by, actor_id=op.actor_id):
        raise NotFound(f"no bulk operation {op_id}", key="web.not_found")
    now = company.clock.now()
    if op.undone_at is not None:
        raise Conflict("already undone", key="bulk.already_undone")
    if now >= op.undo_until:
        raise Conflict("too late to undo", key="bulk.undo_expired")
    if op.action == REASSIGN:
        undone, told, extra = await _undo_reassign(session, op, now, company)
    else:
        undone, told, extra = await UNDOERS[op.action](session, op, by, now)
    op.undone_at, op.undone_by_id = now, by.id
    await audit.log(
        session,
        action="bulk.undone",
        entity_type="bulk",
        entity_id=op_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        back=undone.back,
        kept=undone.kept,
    )
    await tell(session, op_id, told, by, company, **extra)
    return undone


async def _undo_reassign(
    session: AsyncSession, op: BulkOperation, now: datetime, company: Company
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    to, counts = int(op.params["to_id"]), dict(op.params["counts"])
    back, kept = {}, {}
    lost: dict[int, Counter[str]] = defaultdict(Counter)
    for name in counts:
        returned = await _put_back(session, op.id, KINDS[name], to, now)
        for _id, holder in returned:
            if holder is not None:
                lost[holder][name] += 1
        back[name], kept[name] = len(returned), counts[name] - len(returned)
        if name in FOLLOW:
            await FOLLOW[name](session, returned, company)
    told = {to: ("taken_back", back), **{k: ("given_back", dict(v)) for k, v in lost.items()}}
    return Undone(back, kept), told, {"to": to}


def _moved_later(op_id: int, entity_type: str) -> sa.Select[tuple[int]]:
    """Records of `entity_type` that a later bulk change, not undone, moved again."""
    later = _R.alias("later")
    return (
        sa.select(later.c.entity_id)
        .join(_OP, _OP.c.id == later.c.operation_id)
        .where(later.c.operation_id > op_id, later.c.entity_type == entity_type)
        .where(_OP.c.undone_at.is_(None))
    )


async def _put_back(
    session: AsyncSession, op_id: int, kind: Kind, to: int, now: datetime
) -> list[tuple[int, int | None]]:
    """The operation's records of `kind` that are still open, still `to`'s, and not moved by a
    later bulk change (one that is not undone) get their values back; (id, whose it is
    again) of each."""
    before = sa.select(_R).where(
        _R.c.operation_id == op_id, _R.c.entity_type == kind.name, _R.c.entity_id == kind.id
    )
    values: dict[str, Any] = {
        kind.holder: before.with_only_columns(_R.c.holder_id).scalar_subquery(),
        "updated_at": now,
    }
    if kind.office is not None:
        values[kind.office] = before.with_only_columns(_R.c.office_id).scalar_subquery()
    stmt = (
        sa.update(kind.table)
        .where(kind.id.in_(ids(op_id, kind.name)), kind.held_by == to, kind.is_open())
        .where(kind.id.not_in(_moved_later(op_id, kind.name)))
        .values(values)
        .returning(kind.id, kind.held_by)
    )
    return [(row_id, holder) for row_id, holder in (await session.execute(stmt)).all()]
