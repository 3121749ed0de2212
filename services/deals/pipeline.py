"""The pipeline a deal moves through: its stages are rows (`pipelines`, `pipeline_stages`), so
a stage renamed or added in the table is what every screen shows, with no code change."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Pipeline, PipelineStage, StageKind
from models.prepared import Prepared
from services.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Stage:
    id: int
    name: str
    kind: StageKind
    position: int


_DEFAULT = Prepared(
    sa.select(Pipeline.id).order_by(Pipeline.is_default.desc(), Pipeline.id).limit(1)
)
_STAGES = Prepared(
    sa.select(PipelineStage.id, PipelineStage.name, PipelineStage.kind, PipelineStage.position)
    .where(PipelineStage.pipeline_id == sa.bindparam("pipeline_id", type_=sa.BigInteger))
    .order_by(PipelineStage.position)
)


_ALL = Prepared(
    sa.select(Pipeline.id, Pipeline.name).order_by(Pipeline.is_default.desc(), Pipeline.id)
)


async def pipelines(session: AsyncSession) -> list[tuple[int, str]]:
    """Every pipeline as (id, name), the default first."""
    return [(i, name) for i, name in await _ALL.all(session)]


async def default_pipeline_id(session: AsyncSession) -> int:
    pipeline_id = await _DEFAULT.scalar(session)
    if pipeline_id is None:
        raise NotFound("no pipeline configured", key="deal.no_pipeline")
    return pipeline_id


async def stages(session: AsyncSession, pipeline_id: int) -> list[Stage]:
    """The pipeline's stages in order."""
    return [Stage(*row) for row in await _STAGES.all(session, {"pipeline_id": pipeline_id})]


async def working_stage_id(session: AsyncSession, pipeline_id: int) -> int:
    """The first open stage after "unsorted" (the pipeline's first stage)."""
    stmt = (
        sa.select(PipelineStage.id)
        .where(PipelineStage.pipeline_id == pipeline_id, PipelineStage.kind == StageKind.OPEN)
        .order_by(PipelineStage.position)
        .limit(2)
    )
    ids = list((await session.execute(stmt)).scalars())
    if not ids:
        raise NotFound("the pipeline has no open stage", key="deal.no_stage")
    return ids[-1]


async def first_of_kind(session: AsyncSession, pipeline_id: int, kind: StageKind) -> int:
    """Where a won (or lost) deal goes: the pipeline's first stage of that kind."""
    stmt = (
        sa.select(PipelineStage.id)
        .where(PipelineStage.pipeline_id == pipeline_id, PipelineStage.kind == kind)
        .order_by(PipelineStage.position)
        .limit(1)
    )
    stage_id = (await session.execute(stmt)).scalar_one_or_none()
    if stage_id is None:
        raise NotFound(f"the pipeline has no {kind.value} stage", key="deal.no_stage")
    return stage_id


async def open_stage(session: AsyncSession, pipeline_id: int, stage_id: int) -> PipelineStage:
    """An open stage of this pipeline (a stage id from another pipeline, a closing stage or
    none at all is refused: a button can be forged)."""
    stage = await session.get(PipelineStage, stage_id)
    if stage is None or stage.pipeline_id != pipeline_id:
        raise InvalidInput("no such stage in the deal's pipeline", key="deal.bad_stage")
    if stage.kind is not StageKind.OPEN:
        raise InvalidInput("won and lost are their own buttons", key="deal.bad_stage")
    return stage
