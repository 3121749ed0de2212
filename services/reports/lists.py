"""The lists behind a digest's numbers: missed calls nobody called back, deals stuck in their
stage, overdue tasks; each for a scope, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Call,
    CallStatus,
    Client,
    Deal,
    DealStatus,
    Direction,
    Employee,
    PhoneLine,
    PipelineStage,
    StageKind,
    Task,
    TaskStatus,
)
from services.reports.periods import Period, Scope, scoped, within
from services.reports.rows import call_office, called_back_within

PAGE = 20


@dataclass(frozen=True)
class MissedCall:
    call_id: int
    at: datetime
    number: str | None
    client_id: int | None
    client: str | None
    employee: str | None


@dataclass(frozen=True)
class StuckDeal:
    deal_id: int
    title: str
    stage: str
    owner: str | None
    quiet_since: datetime


async def missed_calls(
    session: AsyncSession, period: Period, scope: Scope, *, limit: int = PAGE
) -> list[MissedCall]:
    """The period's missed calls not called back within 15 minutes, newest first."""
    dialect = session.get_bind().dialect.name
    called_back = called_back_within(dialect)
    e = aliased(Employee)
    stmt = (
        sa.select(Call.id, Call.started_at, Call.client_number, Call.client_id, Client.name, e.name)
        .outerjoin(e, e.id == Call.employee_id)
        .outerjoin(PhoneLine, PhoneLine.id == Call.line_id)
        .outerjoin(Client, Client.id == Call.client_id)
        .where(
            within(Call.started_at, period),
            Call.direction == Direction.IN,
            Call.status == CallStatus.MISSED,
            ~called_back,
            *scoped(Call.employee_id, call_office(e), scope),
        )
        .order_by(Call.started_at.desc())
        .limit(limit)
    )
    return [MissedCall(*row) for row in (await session.execute(stmt)).all()]


async def stuck_deals(
    session: AsyncSession, now: datetime, scope: Scope, default_days: int, *, limit: int = PAGE
) -> tuple[int, list[StuckDeal]]:
    """How many open deals are stuck (unchanged for their stage's `stuck_after_days`, else
    `default_days`), and the longest-quiet ones."""
    stages = (
        await session.execute(
            sa.select(PipelineStage.id, PipelineStage.stuck_after_days).where(
                PipelineStage.kind == StageKind.OPEN
            )
        )
    ).all()
    if not stages:
        return 0, []
    quiet = sa.or_(
        *(
            sa.and_(
                Deal.stage_id == stage_id,
                Deal.updated_at < now - timedelta(days=days or default_days),
            )
            for stage_id, days in stages
        )
    )
    e = aliased(Employee)
    where = [
        Deal.status == DealStatus.OPEN,
        quiet,
        *scoped(Deal.owner_id, sa.func.coalesce(Deal.office_id, e.office_id), scope),
    ]
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Deal)
        .outerjoin(e, e.id == Deal.owner_id)
        .where(*where)
    )
    stmt = (
        sa.select(Deal.id, Deal.title, PipelineStage.name, e.name, Deal.updated_at)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .outerjoin(e, e.id == Deal.owner_id)
        .where(*where)
        .order_by(Deal.updated_at)
        .limit(limit)
    )
    return int(count or 0), [StuckDeal(*row) for row in (await session.execute(stmt)).all()]


async def overdue_tasks(session: AsyncSession, now: datetime, scope: Scope) -> int:
    """How many open tasks of the scope are past their due time."""
    e = aliased(Employee)
    stmt = (
        sa.select(sa.func.count())
        .select_from(Task)
        .outerjoin(e, e.id == Task.assignee_id)
        .where(
            Task.status == TaskStatus.OPEN,
            Task.due_at < now,
            *scoped(Task.assignee_id, e.office_id, scope),
        )
    )
    return int(await session.scalar(stmt) or 0)
