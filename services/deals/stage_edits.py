"""Editing a pipeline's stages (the admin web's settings): rename any, add an open stage (it
goes before won and lost), move open stages up and down. Won and lost stay last, one each;
deals keep their stage through every edit (they point at its id), and the reports forget
their rolled-up months (migration 0024's trigger on pipeline_stages)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import PipelineStage, StageKind
from models.text import fold, folded
from services import access, audit
from services.actors import Actor
from services.deals.pipeline import Stage, pipelines, stages
from services.errors import AccessDenied, Conflict, InvalidInput, NotFound

NAME_MAX = 200
_S = PipelineStage.__table__


def _require(by: Actor) -> None:
    if not access.can_edit_settings(by):
        raise AccessDenied("only admins edit the pipelines", key="web.not_found")


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("a stage needs a name", key="settings.stage_name_empty")
    if len(name) > NAME_MAX:
        raise InvalidInput("too long", key="settings.stage_name_long", limit=NAME_MAX)
    return name


async def every(session: AsyncSession, *, by: Actor) -> list[tuple[int, str, list[Stage]]]:
    """Each pipeline (id, name) with its stages in order."""
    _require(by)
    return [(pid, name, await stages(session, pid)) for pid, name in await pipelines(session)]


async def rename(
    session: AsyncSession, stage_id: int, raw: str, *, by: Actor, now: datetime
) -> None:
    _require(by)
    stage = await _stage(session, stage_id)
    name = _name(raw)
    if name == stage.name:
        return
    await _taken(session, stage.pipeline_id, name)
    before, stage.name = stage.name, name
    await _audit(
        session, "settings.stage_renamed", stage, by, now, changes={"name": [before, name]}
    )


async def add(
    session: AsyncSession, pipeline_id: int, raw: str, *, by: Actor, now: datetime
) -> int:
    """A new open stage, last of the open ones (before won and lost)."""
    _require(by)
    name = _name(raw)
    found = await stages(session, pipeline_id)
    if not found:
        raise NotFound(f"no pipeline {pipeline_id}", key="web.not_found")
    await _taken(session, pipeline_id, name)
    at = next((s.position for s in found if s.kind is not StageKind.OPEN), found[-1].position + 1)
    later = sa.and_(_S.c.pipeline_id == pipeline_id, _S.c.position >= at)
    # Two steps: positions are unique in a pipeline at every row, not only at the end.
    await session.execute(sa.update(_S).where(later).values(position=-_S.c.position - 1))
    await session.execute(
        sa.update(_S)
        .where(_S.c.pipeline_id == pipeline_id, _S.c.position < 0)
        .values(position=-_S.c.position)
    )
    stage = PipelineStage(pipeline_id=pipeline_id, name=name, position=at, kind=StageKind.OPEN)
    session.add(stage)
    await session.flush()
    await _audit(session, "settings.stage_added", stage, by, now, name=name)
    return stage.id


async def move(
    session: AsyncSession, stage_id: int, step: int, *, by: Actor, now: datetime
) -> None:
    """An open stage one place up (`step` -1) or down (+1) among the open ones."""
    _require(by)
    stage = await _stage(session, stage_id)
    if stage.kind is not StageKind.OPEN:
        raise Conflict("won and lost stay last", key="settings.stage_fixed")
    found = [s for s in await stages(session, stage.pipeline_id) if s.kind is StageKind.OPEN]
    index = next(i for i, s in enumerate(found) if s.id == stage.id) + step
    if not 0 <= index < len(found):
        return  # first already, or last of the open ones
    other = found[index]
    mine, theirs = stage.position, other.position
    swap = [(stage.id, -1 - mine), (other.id, mine), (stage.id, theirs)]
    for row_id, position in swap:
        await session.execute(sa.update(_S).where(_S.c.id == row_id).values(position=position))
    await session.refresh(stage)
    await _audit(session, "settings.stage_moved", stage, by, now, position=[mine, theirs])


async def _stage(session: AsyncSession, stage_id: int) -> PipelineStage:
    stage = await session.get(PipelineStage, stage_id)
    if stage is None:
        raise NotFound(f"no stage {stage_id}", key="web.not_found")
    return stage


async def _taken(session: AsyncSession, pipeline_id: int, name: str) -> None:
    same = await session.scalar(
        sa.select(sa.func.count())
        .select_from(_S)
        .where(_S.c.pipeline_id == pipeline_id, folded(_S.c.name) == fold(name))
    )
    if same:
        raise Conflict("the pipeline has such a stage", key="settings.stage_name_taken")


async def _audit(
    session: AsyncSession,
    action: str,
    stage: PipelineStage,
    by: Actor,
    now: datetime,
    **data: object,
) -> None:
    await audit.log(
        session,
        action=action,
        entity_type="pipeline_stage",
        entity_id=stage.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        **data,
    )
