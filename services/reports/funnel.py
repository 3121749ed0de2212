"""The funnel of a pipeline (the default one unless another is asked for): of the deals
created in the period, how many reached each stage (a deal that skipped a stage passed it), the
conversion from the stage before, and the average time deals spent in each stage (from entering
it to leaving it, from the stage history). Two SQL statements, window functions the same on both
databases."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import Deal, DealStageChange, DealStatus, Employee, PipelineStage, StageKind
from services.deals import pipeline
from services.reports.periods import Period, Scope, scoped, within


@dataclass(frozen=True)
class Funnel:
    pipeline_id: int
    name: str
    stages: list[StageRow]
    pipelines: list[tuple[int, str]]  # every pipeline (id, name), the default first


@dataclass(frozen=True)
class StageRow:
    name: str
    kind: StageKind
    reached: int  # of the period's deals
    conversion: int | None  # per cent of those that reached the stage before (None: the first)
    average_seconds: int | None  # in the stage, of the stays that ended (None: none ended)


async def funnel(
    session: AsyncSession, period: Period, scope: Scope, pipeline_id: int | None = None
) -> Funnel:
    """A pipeline id that is not one (gone since the button was drawn) shows the default."""
    pipelines = await pipeline.pipelines(session)
    names = dict(pipelines)
    if pipeline_id not in names:
        pipeline_id = await pipeline.default_pipeline_id(session)
    stages = (
        await session.execute(
            sa.select(
                PipelineStage.id, PipelineStage.name, PipelineStage.kind, PipelineStage.position
            )
            .where(PipelineStage.pipeline_id == pipeline_id)
            .order_by(PipelineStage.position)
        )
    ).all()
    e = aliased(Employee)
    cohort = (
        sa.select(Deal.id, Deal.stage_id, Deal.created_at, Deal.status)
        .outerjoin(e, e.id == Deal.owner_id)
        .where(
            Deal.pipeline_id == pipeline_id,
            within(Deal.created_at, period),
            *scoped(Deal.owner_id, sa.func.coalesce(Deal.office_id, e.office_id), scope),
        )
        .subquery()
    )
    won_stage = next((i for i, _n, kind, _p in stages if kind is StageKind.WON), None)
    reached = await _reached(session, cohort, won_stage)
    durations = await _durations(session, cohort, session.get_bind().dialect.name)
    rows: list[StageRow] = []
    before: int | None = None
    for stage_id, name, kind, position in stages:
        if kind is StageKind.LOST:
            count = reached.get(("lost", stage_id), 0)
            rows.append(StageRow(name, kind, count, None, durations.get(stage_id)))
            continue
        count = sum(n for (what, pos), n in reached.items() if what == "max" and pos >= position)
        conversion = None if before is None else round(count * 100 / before) if before else 0
        rows.append(StageRow(name, kind, count, conversion, durations.get(stage_id)))
        before = count
    return Funnel(pipeline_id, names[pipeline_id], rows, pipelines)


async def _reached(
    session: AsyncSession, cohort: sa.Subquery, won_stage: int | None
) -> dict[tuple[str, int], int]:
    """("max", position): how many deals got at most that far (lost stages not counted as
    progress; a won deal reached the won stage); ("lost", stage id): how many are lost there
    now."""
    entered = sa.union_all(
        sa.select(
            cohort.c.id.label("deal_id"), sa.literal(won_stage, sa.BigInteger).label("stage_id")
        ).where(cohort.c.status == DealStatus.WON),
        sa.select(cohort.c.id, cohort.c.stage_id),
        sa.select(DealStageChange.deal_id, DealStageChange.to_stage_id).join(
            cohort, cohort.c.id == DealStageChange.deal_id
        ),
        sa.select(DealStageChange.deal_id, DealStageChange.from_stage_id).join(
            cohort, cohort.c.id == DealStageChange.deal_id
        ),
    ).subquery()
    farthest = (
        sa.select(entered.c.deal_id, sa.func.max(PipelineStage.position).label("pos"))
        .join(PipelineStage, PipelineStage.id == entered.c.stage_id)
        .where(PipelineStage.kind != StageKind.LOST)
        .group_by(entered.c.deal_id)
        .subquery()
    )
    found: dict[tuple[str, int], int] = {}
    for pos, count in (
        await session.execute(sa.select(farthest.c.pos, sa.func.count()).group_by(farthest.c.pos))
    ).all():
        found[("max", pos)] = count
    lost = (
        sa.select(cohort.c.stage_id, sa.func.count())
        .join(PipelineStage, PipelineStage.id == cohort.c.stage_id)
        .where(PipelineStage.kind == StageKind.LOST)
        .group_by(cohort.c.stage_id)
    )
    for stage_id, count in (await session.execute(lost)).all():
        found[("lost", stage_id)] = count
    return found


async def _durations(session: AsyncSession, cohort: sa.Subquery, dialect: str) -> dict[int, int]:
    """Average seconds in each stage, over the stays that ended (a move out of it)."""
    c = DealStageChange
    entered_at = sa.func.coalesce(
        sa.func.lag(c.at).over(partition_by=c.deal_id, order_by=(c.at, c.id)), cohort.c.created_at
    )
    stays = (
        sa.select(c.from_stage_id.label("stage_id"), entered_at.label("since"), c.at.label("left"))
        .join(cohort, cohort.c.id == c.deal_id)
        .subquery()
    )
    if dialect == "postgresql":
        seconds = sa.func.extract("epoch", stays.c.left - stays.c.since)
    else:
        seconds = (sa.func.julianday(stays.c.left) - sa.func.julianday(stays.c.since)) * 86400
    stmt = (
        sa.select(stays.c.stage_id, sa.func.avg(seconds))
        .where(stays.c.stage_id.is_not(None))
        .group_by(stays.c.stage_id)
    )
    return {
        stage_id: int(avg)
        for stage_id, avg in (await session.execute(stmt)).all()
        if avg is not None
    }
