"""Where clients come from: per source, UTM campaign and phone line, the period's leads, how
many were target leads, and what their deals brought (deals opened from those leads, won by
now). One grouped SQL statement."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import Deal, DealStatus, Employee, Lead, LeadStatus, PhoneLine
from services.reports.periods import Period, Scope, scoped, within


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


async def sources_report(session: AsyncSession, period: Period, scope: Scope) -> list[SourceRow]:
    """Rows by leads, most first."""
    e = aliased(Employee)
    office = sa.func.coalesce(Lead.office_id, e.office_id)
    won = Deal.status == DealStatus.WON
    stmt = (
        sa.select(
            Lead.source,
            Lead.utm_campaign,
            PhoneLine.name,
            sa.func.count(sa.distinct(Lead.id)),
            sa.func.count(sa.distinct(Lead.id)).filter(Lead.status == LeadStatus.TARGET),
            sa.func.count(sa.distinct(Deal.id)),
            sa.func.count(sa.distinct(Deal.id)).filter(won),
            sa.func.coalesce(sa.func.sum(sa.func.coalesce(Deal.amount, 0)).filter(won), 0),
        )
        .outerjoin(e, e.id == Lead.assignee_id)
        .outerjoin(PhoneLine, PhoneLine.id == Lead.line_id)
        .outerjoin(Deal, Deal.lead_id == Lead.id)
        .where(within(Lead.created_at, period), *scoped(Lead.assignee_id, office, scope))
        .group_by(Lead.source, Lead.utm_campaign, PhoneLine.name)
    )
    rows = [
        SourceRow(src, campaign, line, n, target, deals, won_n, Decimal(revenue))
        for src, campaign, line, n, target, deals, won_n, revenue in (
            await session.execute(stmt)
        ).all()
    ]
    return sorted(rows, key=lambda r: (-r.leads, r.source, r.campaign or "", r.line or ""))
