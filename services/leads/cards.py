"""What a client card shows about a lead: the lead itself and the client's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Deal, DealStatus, Employee, Lead, LeadStatus
from models.lead import UTM_FIELDS
from services import access
from services.access import HasRole
from services.clients import history, timeline
from services.clients.history import CardHistory
from services.errors import NotFound
from services.leads import table
from services.leads.table import LeadFilter, LeadRow


@dataclass(frozen=True)
class LeadCard:
    lead_id: int
    client_id: int
    status: LeadStatus
    created_at: datetime
    name: str | None
    phone: str | None
    raw_phone: str | None
    email: str | None
    source: str
    form_name: str | None
    landing_url: str | None
    comment: str | None
    utm: dict[str, str]
    assignee_id: int | None
    assignee_name: str | None
    closed_by: str | None
    history: CardHistory  # the client's contacts up to this lead, without the lead's own event
    office_id: int | None = None
    close_reason: str | None = None  # a code of services.leads.reasons
    deal_id: int | None = None  # the deal Take opened (or found open) for it


async def load(session: AsyncSession, lead_id: int) -> LeadCard:
    lead = await session.get(Lead, lead_id, populate_existing=True)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    assignee = await session.get(Employee, lead.assignee_id) if lead.assignee_id else None
    closer = await session.get(Employee, lead.closed_by_id) if lead.closed_by_id else None
    return LeadCard(
        lead_id=lead.id,
        client_id=lead.client_id,
        status=lead.status,
        created_at=lead.created_at,
        name=lead.name,
        phone=lead.phone,
        raw_phone=lead.raw_phone,
        email=lead.email,
        source=lead.source,
        form_name=lead.form_name,
        landing_url=lead.landing_url,
        comment=lead.comment,
        utm={k: v for k in UTM_FIELDS if (v := getattr(lead, k))},
        assignee_id=lead.assignee_id,
        assignee_name=assignee.name if assignee else None,
        closed_by=closer.name if closer else None,
        history=await history.of_client(
            session, lead.client_id, leaving_out=await history.of_lead(session, lead), before=lead
        ),
        office_id=lead.office_id,
        close_reason=lead.close_reason,
        deal_id=await _deal_of(session, lead) if lead.status is LeadStatus.TARGET else None,
    )


async def load_for(session: AsyncSession, lead_id: int, *, by: HasRole) -> LeadCard:
    """The card, for someone who may act on the lead (a picker shows it with other buttons)."""
    lead = await session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    return await load(session, lead_id)


async def _deal_of(session: AsyncSession, lead: Lead) -> int | None:
    """The deal Take opened for the lead, else the client's open deal Take found (the
    client's few deals, on `ix_deals_client_id`)."""
    stmt = (
        sa.select(Deal.id)
        .where(Deal.client_id == lead.client_id)
        .where(sa.or_(Deal.lead_id == lead.id, Deal.status == DealStatus.OPEN))
        .order_by(sa.case((Deal.lead_id == lead.id, 0), else_=1), Deal.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True)
class LeadLine:
    """One lead as a line of a digest."""

    lead_id: int
    name: str | None
    phone: str | None
    raw_phone: str | None
    email: str | None
    source: str


async def lines(session: AsyncSession, lead_ids: list[int]) -> list[LeadLine]:
    """The leads of a digest, in the given order (missing ones left out)."""
    stmt = sa.select(Lead.id, Lead.name, Lead.phone, Lead.raw_phone, Lead.email, Lead.source).where(
        Lead.id.in_(lead_ids)
    )
    found = {row.id: LeadLine(*row) for row in (await session.execute(stmt)).all()}
    return [found[i] for i in lead_ids if i in found]


@dataclass(frozen=True)
class LeadRecord:
    """One lead as the admin web's record page shows it, with its client's timeline."""

    row: LeadRow
    client_id: int
    email: str | None
    utm: dict[str, str]
    history: list[timeline.Entry]


async def record(
    session: AsyncSession, lead_id: int, *, office_id: int | None = None, history_size: int = 50
) -> LeadRecord:
    """NotFound when there is no such lead, or (`office_id`: a manager's) it is another
    office's: a URL typed by hand shows nothing of it."""
    found = await table.page(session, LeadFilter(office_id=office_id, lead_id=lead_id), size=1)
    lead = await session.get(Lead, lead_id) if found.rows else None
    if lead is None:
        raise NotFound(f"no lead {lead_id}", key="web.not_found")
    utm = {name: getattr(lead, name) for name in UTM_FIELDS if getattr(lead, name)}
    entries = await timeline.entries(session, lead.client_id, limit=history_size)
    return LeadRecord(found.rows[0], lead.client_id, lead.email, utm, entries)
