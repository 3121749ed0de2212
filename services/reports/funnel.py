"""The funnel of a pipeline (the default one unless another is asked for): of the deals
created in the period, how many reached each stage (a deal that skipped a stage passed it), the
conversion from the stage before, and the average time deals spent in each stage (from entering
it to leaving it, from the stage history). One grouped SQL statement (the "funnel" rows of
services/reports/funnel_rows.py), window functions the same on both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import StageKind
from services.deals import pipeline
from services.reports import funnel_rows, rollup, rows
from services.reports.periods import Period, Scope


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
    session: AsyncSession,
    period: Period,
    scope: Scope,
    pipeline_id: int | None = None,
    *,
    today: datetime | None = None,
) -> Funnel:
    """A pipeline id that is not one (gone since the button was drawn) shows the default.
    `today` (now): which months of a long period are read from the roll-up."""
    pipelines = await pipeline.pipelines(session)
    names = dict(pipelines)
    if pipeline_id not in names:
        pipeline_id = await pipeline.default_pipeline_id(session)
    stages = await pipeline.stages(session, pipeline_id)
    parts = await rollup.split(session, period, today)
    u = parts.union(funnel_rows.FUNNEL, scope, session.get_bind().dialect.name)
    stmt = (
        sa.select(u.c.key1, u.c.n2, sa.func.sum(u.c.n3), sa.func.sum(u.c.s1))
        .where(u.c.n1 == pipeline_id)
        .group_by(u.c.key1, u.c.n2)
        .having(rows.nonzero(sa.func.sum(u.c.n3)))
    )
    found = {(kind, at): (int(n), seconds) for kind, at, n, seconds in await session.execute(stmt)}
    result: list[StageRow] = []
    before: int | None = None
    for stage in stages:
        stays, seconds = found.get(("stay", stage.id), (0, None))
        average = round(seconds / stays) if stays else None
        if stage.kind is StageKind.LOST:
            count = found.get(("lost", stage.id), (0, None))[0]
            result.append(StageRow(stage.name, stage.kind, count, None, average))
            continue
        count = sum(
            n for (kind, pos), (n, _s) in found.items() if kind == "max" and pos >= stage.position
        )
        conversion = None if before is None else round(count * 100 / before) if before else 0
        result.append(StageRow(stage.name, stage.kind, count, conversion, average))
        before = count
    return Funnel(pipeline_id, names[pipeline_id], result, pipelines)
