"""The funnel's family of numbers (see services/reports/rows.py): of the deals created in a
period, how far each got, where the lost ones sit, and each stay in a stage that ended."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from models import Deal, DealStageChange, DealStatus, Employee, PipelineStage, StageKind
from services.reports.periods import Period, Scope, scoped, seconds_after, within
from services.reports.rows import Family, deal_office


def _rows(period: Period, scope: Scope, dialect: str) -> sa.Select[Any]:
    """Of the deals created in the period: how far each got (the farthest position among the
    stages it was in, lost stages apart; a won deal reached its pipeline's won stage), the lost
    stage each lost one sits in, and each stay that ended (a move out of a stage)."""
    e = aliased(Employee)
    cohort = (
        sa.select(
            Deal.id,
            Deal.stage_id,
            Deal.pipeline_id,
            Deal.created_at,
            Deal.status,
            Deal.owner_id.label("who"),
            Deal.office_id,
        )
        .outerjoin(e, e.id == Deal.owner_id)
        .where(within(Deal.created_at, period), *scoped(Deal.owner_id, deal_office(e), scope))
        .subquery()
    )
    won_stage = (  # each pipeline's won stage
        sa.select(PipelineStage.pipeline_id, sa.func.min(PipelineStage.id).label("stage_id"))
        .where(PipelineStage.kind == StageKind.WON)
        .group_by(PipelineStage.pipeline_id)
        .subquery()
    )
    c = DealStageChange
    entered = sa.union_all(
        sa.select(cohort.c.id.label("deal_id"), won_stage.c.stage_id)
        .join(won_stage, won_stage.c.pipeline_id == cohort.c.pipeline_id)
        .where(cohort.c.status == DealStatus.WON),
        sa.select(cohort.c.id, cohort.c.stage_id),
        sa.select(c.deal_id, c.to_stage_id).join(cohort, cohort.c.id == c.deal_id),
        sa.select(c.deal_id, c.from_stage_id).join(cohort, cohort.c.id == c.deal_id),
    ).subquery()
    farthest = (
        sa.select(entered.c.deal_id, sa.func.max(PipelineStage.position).label("pos"))
        .join(PipelineStage, PipelineStage.id == entered.c.stage_id)
        .where(PipelineStage.kind != StageKind.LOST)
        .group_by(entered.c.deal_id)
        .subquery()
    )
    reached = (
        sa.select(
            cohort.c.who,
            cohort.c.office_id,
            sa.literal("max").label("key1"),
            cohort.c.pipeline_id.label("n1"),
            farthest.c.pos.label("n2"),
            sa.func.count().label("n3"),
            sa.literal(0).label("s1"),
        )
        .join(farthest, farthest.c.deal_id == cohort.c.id)
        .group_by(cohort.c.who, cohort.c.office_id, cohort.c.pipeline_id, farthest.c.pos)
    )
    lost = (
        sa.select(
            cohort.c.who,
            cohort.c.office_id,
            sa.literal("lost").label("key1"),
            cohort.c.pipeline_id.label("n1"),
            cohort.c.stage_id.label("n2"),
            sa.func.count().label("n3"),
            sa.literal(0).label("s1"),
        )
        .join(PipelineStage, PipelineStage.id == cohort.c.stage_id)
        .where(PipelineStage.kind == StageKind.LOST)
        .group_by(cohort.c.who, cohort.c.office_id, cohort.c.pipeline_id, cohort.c.stage_id)
    )
    since = sa.func.coalesce(
        sa.func.lag(c.at).over(partition_by=c.deal_id, order_by=(c.at, c.id)), cohort.c.created_at
    )
    moves = (
        sa.select(
            cohort.c.who,
            cohort.c.office_id,
            cohort.c.pipeline_id,
            c.from_stage_id.label("stage_id"),
            since.label("since"),
            c.at.label("left"),
        )
        .join(cohort, cohort.c.id == c.deal_id)
        .subquery()
    )
    # whole seconds: summed the same from the rows and from a rolled-up month (s1 keeps cents)
    seconds = sa.func.round(seconds_after(moves.c.left, moves.c.since, dialect))
    stays = (
        sa.select(
            moves.c.who,
            moves.c.office_id,
            sa.literal("stay").label("key1"),
            moves.c.pipeline_id.label("n1"),
            moves.c.stage_id.label("n2"),
            sa.func.count().label("n3"),
            sa.func.coalesce(sa.func.sum(seconds), 0).label("s1"),
        )
        .where(moves.c.stage_id.is_not(None))
        .group_by(moves.c.who, moves.c.office_id, moves.c.pipeline_id, moves.c.stage_id)
    )
    every = sa.union_all(reached, lost, stays).subquery()
    return sa.select(*every.c)


FUNNEL = Family("funnel", ("who", "office_id", "key1", "n1", "n2", "n3", "s1"), ("n3", "s1"), _rows)
