"""Deals in the pipeline."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Deal, DealStatus, Lead, Pipeline, PipelineStage, StageKind
from services.errors import NotFound


async def default_pipeline_id(session: AsyncSession) -> int:
    stmt = sa.select(Pipeline.id).order_by(Pipeline.is_default.desc(), Pipeline.id).limit(1)
    pipeline_id = (await session.execute(stmt)).scalar_one_or_none()
    if pipeline_id is None:
        raise NotFound("no pipeline configured")
    return pipeline_id


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
        raise NotFound("the pipeline has no open stage", pipeline_id=pipeline_id)
    return ids[-1]


async def open_for_lead(
    session: AsyncSession, lead: Lead, *, owner_id: int, currency: str, now: datetime
) -> int:
    """The client's open deal, or a new one at the working stage for this lead."""
    existing = await session.execute(
        sa.select(Deal.id)
        .where(Deal.client_id == lead.client_id, Deal.status == DealStatus.OPEN)
        .limit(1)
    )
    deal_id = existing.scalar_one_or_none()
    if deal_id is not None:
        return deal_id
    pipeline_id = await default_pipeline_id(session)
    deal = Deal(
        client_id=lead.client_id,
        lead_id=lead.id,
        pipeline_id=pipeline_id,
        stage_id=await working_stage_id(session, pipeline_id),
        title=lead.name or lead.phone or lead.email or f"#{lead.id}",
        currency=currency,
        owner_id=owner_id,
        office_id=lead.office_id,
        status=DealStatus.OPEN,
        stage_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    await session.flush()
    return deal.id
