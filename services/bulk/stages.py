"""Moving many deals to one stage at once, closing them too when it is a won or lost stage:
counted first, applied in one transaction, undone for 24 hours (services.bulk.engine).

Each moved deal gets its stage move recorded, as a move made in chat does, so the funnel and
the reports count it; undo puts back the deals that still stand where the operation put them
(stage and status), and takes those moves back out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import BulkOperation, BulkOperationRow, Deal, DealStageChange, DealStatus, StageKind
from models import PipelineStage as Stage
from services.actors import Actor
from services.bulk import engine, undoing
from services.bulk.engine import Chosen
from services.bulk.undoing import Undone
from services.context import Company
from services.deals.changes import lost_reason_of
from services.errors import NotFound

MOVE = "move"
_D, _R, _M = Deal.__table__, BulkOperationRow.__table__, DealStageChange.__table__
_STATUS = {StageKind.WON: DealStatus.WON, StageKind.LOST: DealStatus.LOST}


@dataclass(frozen=True)
class Target:
    id: int
    name: str
    kind: StageKind
    pipeline_id: int


@dataclass(frozen=True)
class MovePlan:
    stage: Target
    moving: int  # open deals of the stage's pipeline that move
    closed: int  # won or lost already: they stay
    already: int  # at that stage already
    elsewhere: int  # open deals of another pipeline: they stay


async def plan(session: AsyncSession, chosen: Chosen, *, stage_id: int) -> MovePlan:
    stage = await _stage(session, stage_id)
    is_open = _D.c.status == DealStatus.OPEN
    here = _D.c.pipeline_id == stage.pipeline_id
    counts = sa.select(
        engine.count_of(sa.and_(is_open, here, _D.c.stage_id != stage.id)),
        engine.count_of(_D.c.status != DealStatus.OPEN),
        engine.count_of(sa.and_(is_open, _D.c.stage_id == stage.id)),
        engine.count_of(sa.and_(is_open, sa.not_(here))),
    ).where(_D.c.id.in_(chosen))
    moving, closed, already, elsewhere = (await session.execute(counts)).one()
    return MovePlan(stage, int(moving), int(closed), int(already), int(elsewhere))


async def apply(
    session: AsyncSession,
    chosen: Chosen,
    *,
    stage_id: int,
    reason: str | None,
    reason_text: str | None,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """Move the chosen open deals of the stage's pipeline to it (closing them, with `reason`
    for a lost stage); the operation's id. Conflict, with nothing written, when the count is
    no longer the `expected` one."""
    stage = await _stage(session, stage_id)
    lost_reason = (
        lost_reason_of(reason or "", reason_text) if stage.kind is StageKind.LOST else None
    )
    now = company.clock.now()
    op_id = await engine.start(
        session, "deal", by, now, action=MOVE, stage_id=stage.id, stage_name=stage.name
    )
    moving = (
        sa.select(
            _D.c.id,
            _D.c.owner_id,
            _D.c.office_id,
            _D.c.stage_id,
            _D.c.status,
            _D.c.stage_changed_at,
            _D.c.closed_at,
            _D.c.lost_reason,
        )
        .where(_D.c.id.in_(chosen), _D.c.status == DealStatus.OPEN)
        .where(_D.c.pipeline_id == stage.pipeline_id, _D.c.stage_id != stage.id)
        .with_for_update(of=_D)
        .subquery()
    )
    columns = ["entity_id", "holder_id", "office_id", "stage_id", "status"]
    columns += ["stage_changed_at", "closed_at", "lost_reason"]
    rows = sa.select(sa.literal(op_id, sa.BigInteger), sa.literal("deal"), *moving.c)
    await session.execute(
        sa.insert(_R).from_select(["operation_id", "entity_type", *columns], rows)
    )
    count = engine.as_counted(await engine.count_rows(session, op_id, "deal"), expected)
    values: dict[str, Any] = {"stage_id": stage.id, "stage_changed_at": now, "updated_at": now}
    if stage.kind in _STATUS:
        values |= {"status": _STATUS[stage.kind], "closed_at": now, "lost_reason": lost_reason}
    await session.execute(
        sa.update(_D).where(_D.c.id.in_(engine.ids(op_id, "deal"))).values(values)
    )
    recorded = sa.select(
        _R.c.entity_id,
        _R.c.stage_id,
        sa.literal(stage.id, sa.BigInteger),
        sa.literal(by.id, sa.BigInteger),
        sa.literal(now, _M.c.at.type),
    ).where(_R.c.operation_id == op_id, _R.c.entity_type == "deal")
    await session.execute(
        sa.insert(_M).from_select(
            ["deal_id", "from_stage_id", "to_stage_id", "by_id", "at"], recorded
        )
    )
    params = {"stage_id": stage.id, "stage_name": stage.name, "counts": {"deal": count}}
    await engine.finish(
        session,
        op_id,
        action="bulk.deals_moved",
        count=count,
        params=params,
        by=by,
        now=now,
        stage=stage.name,
        lost_reason=lost_reason,
    )
    owners = (
        sa.select(_R.c.holder_id, sa.func.count())
        .where(_R.c.operation_id == op_id, _R.c.holder_id.is_not(None))
        .group_by(_R.c.holder_id)
    )
    told = {owner: ("moved", {"deal": n}) for owner, n in (await session.execute(owners)).all()}
    await engine.tell(session, op_id, told, by, company, stage=stage.name)
    return op_id


async def _undo(
    session: AsyncSession, op: BulkOperation, _by: Actor, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    """Deals still where the operation put them go back to where they stood, reopened if it
    closed them; the stage moves it recorded are taken out."""
    stage = await _stage(session, int(op.params["stage_id"]))
    before = sa.select(_R).where(
        _R.c.operation_id == op.id, _R.c.entity_type == "deal", _R.c.entity_id == _D.c.id
    )
    restored = {
        name: before.with_only_columns(_R.c[name]).scalar_subquery()
        for name in ("stage_id", "status", "stage_changed_at", "closed_at", "lost_reason")
    }
    status = _STATUS.get(stage.kind, DealStatus.OPEN)
    still = sa.select(_D.c.id).where(  # where the operation put them, not moved since
        _D.c.id.in_(engine.ids(op.id, "deal")),
        _D.c.stage_id == stage.id,
        _D.c.status == status,
        _D.c.stage_changed_at == op.at,
    )
    await session.execute(  # first: which deals still stand there is read before they move
        sa.delete(_M).where(
            _M.c.deal_id.in_(still),
            _M.c.to_stage_id == stage.id,
            _M.c.at == op.at,
            _M.c.by_id == op.actor_id,
        )
    )
    stmt = (
        sa.update(_D)
        .where(_D.c.id.in_(engine.ids(op.id, "deal")))
        .where(_D.c.stage_id == stage.id, _D.c.status == status)
        .where(_D.c.stage_changed_at == op.at)
        .values(**restored, updated_at=now)
        .returning(_D.c.id, _D.c.owner_id)
    )
    back = (await session.execute(stmt)).all()
    owners = Counter(owner for _id, owner in back if owner is not None)
    told = {owner: ("moved_back", {"deal": n}) for owner, n in owners.items()}
    undone = Undone({"deal": len(back)}, {"deal": op.count - len(back)})
    return undone, told, {"stage": stage.name}


undoing.UNDOERS[MOVE] = _undo


async def _stage(session: AsyncSession, stage_id: int) -> Target:
    stmt = sa.select(Stage.id, Stage.name, Stage.kind, Stage.pipeline_id).where(
        Stage.id == stage_id
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound(f"no stage {stage_id}", key="bulk.no_such_stage")
    return Target(*row)
