"""What people do to a deal: open it, move it, price it, win, lose or reopen it, note on it.
Every change is checked against `access.require_deal`, written to the audit log as
before → after, and every stage move (creation too) leaves a `deal_stage_changes` row."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Deal, DealStageChange, DealStatus, Lead, StageKind
from services import access, audit, money, notes
from services.actors import Actor
from services.clients import visibility
from services.context import Company
from services.deals import pipeline
from services.errors import Conflict, InvalidInput, NotFound
from services.team import topics as team_topics

# Why a deal was lost: codes stored in `deals.lost_reason` (texts in the locale files), or
# "other: <typed text>".
LOST_REASONS = ("price", "competitor", "no_budget", "no_answer", "not_needed", "other")
OTHER = "other"
MAX_TEXT = 400


async def create_for_client(
    session: AsyncSession, client_id: int, *, by: Actor, company: Company
) -> Deal:
    """A new deal for a client `by` may see: theirs, in their office (or the client's)."""
    client = await visibility.require(session, client_id, by)
    title = client.name or client.company or f"#{client.id}"
    office_id = by.office_id if by.office_id is not None else client.office_id
    return await _create(
        session, client.id, None, title, office_id=office_id, by=by, company=company
    )


async def create_for_lead(
    session: AsyncSession, lead_id: int, *, client_id: int, by: Actor, company: Company
) -> Deal:
    """The lead's deal: the one already opened for it (a second press, or Take's), else new."""
    lead = await session.get(Lead, lead_id)
    if lead is None or lead.client_id != client_id:
        raise NotFound("no such lead", key="deal.not_found")
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    existing = await session.scalar(
        sa.select(Deal).where(Deal.lead_id == lead.id).order_by(Deal.id.desc()).limit(1)
    )
    if existing is not None:
        access.require_deal(by, owner_id=existing.owner_id, office_id=existing.office_id)
        return existing
    office_id = lead.office_id if lead.office_id is not None else by.office_id
    title = lead.name or lead.phone or lead.email or f"#{lead.id}"
    return await _create(
        session, client_id, lead.id, title, office_id=office_id, by=by, company=company
    )


async def open_for_lead(
    session: AsyncSession, lead: Lead, *, owner_id: int, currency: str, now: datetime
) -> int:
    """Take's deal: the client's open deal, or a new one at the working stage for this lead."""
    existing = await session.execute(
        sa.select(Deal.id)
        .where(Deal.client_id == lead.client_id, Deal.status == DealStatus.OPEN)
        .limit(1)
    )
    deal_id = existing.scalar_one_or_none()
    if deal_id is not None:
        return deal_id
    title = lead.name or lead.phone or lead.email or f"#{lead.id}"
    deal = await _insert(
        session,
        lead.client_id,
        lead.id,
        title,
        office_id=lead.office_id,
        owner_id=owner_id,
        currency=currency,
        now=now,
    )
    await _created(session, deal, actor_id=owner_id, now=now)
    return deal.id


async def move_to_stage(
    session: AsyncSession, deal_id: int, stage_id: int, *, by: Actor, company: Company
) -> Deal:
    """Move an open deal to another open stage of its pipeline."""
    deal = await _for_change(session, deal_id, by)
    _require_open(deal)
    stage = await pipeline.open_stage(session, deal.pipeline_id, stage_id)
    if stage.id == deal.stage_id:
        return deal
    return await _change(session, deal, by, company, "deal.stage", stage_id=stage.id)


async def win(session: AsyncSession, deal_id: int, *, by: Actor, company: Company) -> Deal:
    deal = await _for_change(session, deal_id, by)
    if deal.status is DealStatus.WON:
        return deal  # a second press
    _require_open(deal)
    stage_id = await pipeline.first_of_kind(session, deal.pipeline_id, StageKind.WON)
    now = company.clock.now()
    return await _change(
        session,
        deal,
        by,
        company,
        "deal.won",
        stage_id=stage_id,
        status=DealStatus.WON,
        closed_at=now,
    )


async def lose(
    session: AsyncSession,
    deal_id: int,
    reason: str,
    *,
    by: Actor,
    company: Company,
    text: str | None = None,
) -> Deal:
    """Lose an open deal for one of `LOST_REASONS` (`OTHER` with the reason typed in `text`)."""
    lost_reason = lost_reason_of(reason, text)
    deal = await _for_change(session, deal_id, by)
    _require_open(deal)
    stage_id = await pipeline.first_of_kind(session, deal.pipeline_id, StageKind.LOST)
    now = company.clock.now()
    return await _change(
        session,
        deal,
        by,
        company,
        "deal.lost",
        stage_id=stage_id,
        status=DealStatus.LOST,
        closed_at=now,
        lost_reason=lost_reason,
    )


async def reopen(session: AsyncSession, deal_id: int, *, by: Actor, company: Company) -> Deal:
    """A won or lost deal back to the open stage it was closed from (else the working one)."""
    deal = await _for_change(session, deal_id, by)
    if deal.status is DealStatus.OPEN:
        return deal
    stage_id = await _stage_before_closing(session, deal)
    return await _change(
        session,
        deal,
        by,
        company,
        "deal.reopened",
        stage_id=stage_id,
        status=DealStatus.OPEN,
        closed_at=None,
        lost_reason=None,
    )


async def set_amount(
    session: AsyncSession, deal_id: int, amount: Decimal | str, *, by: Actor, company: Company
) -> Deal:
    """The deal's amount, typed ("150 000 ₽") or given."""
    value = money.parse_amount(amount) if isinstance(amount, str) else amount
    deal = await _for_change(session, deal_id, by)
    return await _change(session, deal, by, company, "deal.amount", amount=value)


async def set_cost(
    session: AsyncSession, deal_id: int, cost: Decimal | str, *, by: Actor, company: Company
) -> Deal:
    """What the deal costs the company (gross profit = amount − cost)."""
    value = money.parse_amount(cost) if isinstance(cost, str) else cost
    deal = await _for_change(session, deal_id, by)
    return await _change(session, deal, by, company, "deal.cost", cost=value)


async def add_note(
    session: AsyncSession, deal_id: int, text: str, *, by: Actor, company: Company
) -> int:
    """A note on the deal (and so on its client's timeline), by whoever may work on the deal."""
    deal = await _for_change(session, deal_id, by)
    return await notes.add(session, text, by=by, now=company.clock.now(), deal_id=deal.id)


async def get_for(session: AsyncSession, deal_id: int, by: Actor) -> Deal:
    """The deal if `by` may work on it (NotFound / AccessDenied otherwise)."""
    deal = await session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("no such deal", key="deal.not_found")
    access.require_deal(by, owner_id=deal.owner_id, office_id=deal.office_id)
    return deal


# --- inside


async def _create(
    session: AsyncSession,
    client_id: int,
    lead_id: int | None,
    title: str,
    *,
    office_id: int | None,
    by: Actor,
    company: Company,
) -> Deal:
    now = company.clock.now()
    deal = await _insert(
        session,
        client_id,
        lead_id,
        title[:300],
        office_id=office_id,
        owner_id=by.id,
        currency=company.currency,
        now=now,
    )
    await _created(session, deal, actor_id=by.id, now=now)
    return deal


async def _insert(
    session: AsyncSession,
    client_id: int,
    lead_id: int | None,
    title: str,
    *,
    office_id: int | None,
    owner_id: int,
    currency: str,
    now: datetime,
) -> Deal:
    """The row and its first stage change (from nowhere to the working stage)."""
    pipeline_id = await pipeline.default_pipeline_id(session)
    deal = Deal(
        client_id=client_id,
        lead_id=lead_id,
        pipeline_id=pipeline_id,
        stage_id=await pipeline.working_stage_id(session, pipeline_id),
        title=title,
        currency=currency,
        owner_id=owner_id,
        office_id=office_id,
        status=DealStatus.OPEN,
        stage_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    await session.flush()
    session.add(
        DealStageChange(
            deal_id=deal.id, from_stage_id=None, to_stage_id=deal.stage_id, by_id=owner_id, at=now
        )
    )
    await session.flush()
    return deal


async def _created(session: AsyncSession, deal: Deal, *, actor_id: int, now: datetime) -> None:
    await team_topics.clients_changed(session, [deal.client_id], now=now)
    await audit.log(
        session,
        action="deal.created",
        entity_type="deal",
        entity_id=deal.id,
        at=now,
        actor_id=actor_id,
        actor_kind="employee",
        changes=audit.diff({}, _snapshot(deal)),
    )


async def _for_change(session: AsyncSession, deal_id: int, by: Actor) -> Deal:
    deal = await session.get(Deal, deal_id, with_for_update=True)
    if deal is None:
        raise NotFound("no such deal", key="deal.not_found")
    access.require_deal(by, owner_id=deal.owner_id, office_id=deal.office_id)
    return deal


def _require_open(deal: Deal) -> None:
    if deal.status is not DealStatus.OPEN:
        raise Conflict("the deal is closed", key="deal.closed_already")


async def _change(
    session: AsyncSession, deal: Deal, by: Actor, company: Company, action: str, **values: Any
) -> Deal:
    """Set `values`, record a stage move if there is one, and audit before → after."""
    now = company.clock.now()
    before = _snapshot(deal)
    for name, value in values.items():
        setattr(deal, name, value)
    if deal.stage_id != before["stage_id"]:
        deal.stage_changed_at = now
        session.add(
            DealStageChange(
                deal_id=deal.id,
                from_stage_id=before["stage_id"],
                to_stage_id=deal.stage_id,
                by_id=by.id,
                at=now,
            )
        )
    deal.updated_at = now
    await session.flush()
    changes = audit.diff(before, _snapshot(deal))
    if changes:
        await team_topics.clients_changed(session, [deal.client_id], now=now)
        await audit.log(
            session,
            action=action,
            entity_type="deal",
            entity_id=deal.id,
            at=now,
            actor_id=by.id,
            actor_kind="employee",
            changes=changes,
        )
    return deal


def _snapshot(deal: Deal) -> dict[str, Any]:
    return {
        "title": deal.title,
        "stage_id": deal.stage_id,
        "status": deal.status,
        "amount": deal.amount,
        "cost": deal.cost,
        "owner_id": deal.owner_id,
        "office_id": deal.office_id,
        "closed_at": deal.closed_at,
        "lost_reason": deal.lost_reason,
    }


def lost_reason_of(reason: str, text: str | None) -> str:
    if reason not in LOST_REASONS:
        raise InvalidInput("no such reason", key="deal.bad_reason")
    if reason != OTHER:
        return reason
    typed = (text or "").strip()
    if not typed:
        raise InvalidInput("say why the deal was lost", key="deal.reason_empty")
    if len(typed) > MAX_TEXT:
        raise InvalidInput("the reason is too long", key="deal.reason_too_long", limit=MAX_TEXT)
    return f"{OTHER}: {typed}"


async def _stage_before_closing(session: AsyncSession, deal: Deal) -> int:
    stmt = (
        sa.select(DealStageChange.from_stage_id)
        .where(DealStageChange.deal_id == deal.id, DealStageChange.to_stage_id == deal.stage_id)
        .order_by(DealStageChange.at.desc(), DealStageChange.id.desc())
        .limit(1)
    )
    from_stage = await session.scalar(stmt)
    if from_stage is not None:
        try:
            return (await pipeline.open_stage(session, deal.pipeline_id, from_stage)).id
        except InvalidInput:
            pass  # that stage has since closed or moved to another pipeline
    return await pipeline.working_stage_id(session, deal.pipeline_id)
