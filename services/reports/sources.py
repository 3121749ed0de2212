"""Where clients come from: per source, UTM campaign and phone line, the period's leads, how
many were target leads, and what their deals brought (deals opened from those leads, won by
now). One grouped SQL statement (services/reports/rows.py's "sources")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import PhoneLine
from services.reports import rollup, rows
from services.reports.manager import money
from services.reports.periods import Period, Scope


@dataclass(frozen=True)
class SourceRow:
    source: str
    campaign: str | None  # utm_campaign
    line: str | None  # the phone line's name
    leads: int
    target: int
    deals: int
    won: int
    revenue: Decimal

    @property
    def target_share(self) -> int:
        """Per cent of the leads that were target ones (taken into work)."""
        return round(self.target * 100 / self.leads) if self.leads else 0


async def sources_report(
    session: AsyncSession, period: Period, scope: Scope, *, today: datetime | None = None
) -> list[SourceRow]:
    """Rows by leads, most first. `today` (now): which months of a long period are settled
    enough to read from the roll-up (services/reports/rollup.py)."""
    parts = await rollup.split(session, period, today)
    u = parts.union(rows.SOURCES, scope, session.get_bind().dialect.name)
    sums = [sa.func.sum(u.c[c]) for c in ("n1", "n2", "n3", "n4", "s1")]
    stmt = (
        sa.select(u.c.key1, u.c.key2, PhoneLine.name, *sums)
        .outerjoin(PhoneLine, PhoneLine.id == u.c.line_id)
        .group_by(u.c.key1, u.c.key2, PhoneLine.name)
        .having(rows.nonzero(*sums))
    )
    found = [
        SourceRow(src, campaign, line, int(n), int(target), int(deals), int(won_n), money(revenue))
        for src, campaign, line, n, target, deals, won_n, revenue in (
            await session.execute(stmt)
        ).all()
    ]
    return sorted(found, key=lambda r: (-r.leads, r.source, r.campaign or "", r.line or ""))
