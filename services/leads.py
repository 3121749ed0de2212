"""Leads: registering incoming requests from any channel, and what staff do with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Lead, LeadStatus, Office
from models.lead import UTM_FIELDS
from services import access, assignment, audit, clients, deals, inbound, notify
from services.context import Company
from services.employees import Actor
from services.errors import Conflict, InvalidEmail, InvalidInput, InvalidPhone, NotFound
from services.identities import normalize_email, normalize_phone


class LeadIn(BaseModel):
    """An incoming request, whatever the channel that brought it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=100)
    name: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    comment: str | None = Field(default=None, max_length=10_000)
    form_name: str | None = Field(default=None, max_length=200)
    landing_url: str | None = Field(default=None, max_length=2000)
    office: str | None = Field(default=None, max_length=200)
    utm: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name", "phone", "email", "comment", "form_name", "landing_url", "office")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("utm")
    @classmethod
    def _known_utm(cls, value: dict[str, str]) -> dict[str, str]:
        return {k: v[:300] for k, v in value.items() if k in UTM_FIELDS and v}


@dataclass(frozen=True)
class IntakeResult:
    duplicate: bool
    lead_id: int | None = None
    client_id: int | None = None
    returning: bool = False
    assignee_id: int | None = None
    reason: assignment.Reason | None = None
    warnings: list[str] = field(default_factory=list)


async def register_incoming(
    session: AsyncSession,
    lead_in: LeadIn,
    *,
    company: Company,
    event: tuple[str, str] | None = None,
) -> IntakeResult:
    """Record one incoming request: dedupe, resolve the client, assign, and tell the assignee.

    `event` is the provider's (source, id) for this delivery; a repeat is a no-op.
    """
    now = company.clock.now()
    if event and not await inbound.record(
        session, source=event[0], external_id=event[1], clock=company.clock
    ):
        return IntakeResult(duplicate=True)
    contact = _contact(lead_in, company.region)
    if not contact.identities and not contact.raw_phone and not lead_in.name:
        raise InvalidInput("a lead needs a phone, an e-mail or at least a name")
    client = await clients.resolve_or_create(
        session, contact.identities, name=lead_in.name, now=now
    )
    office_id = await _office_id(session, lead_in.office, contact.warnings)
    chosen = await assignment.choose(
        session,
        owner_id=client.owner_id,
        office_id=office_id or client.office_id,
        now=now,
        timezone=company.timezone,
    )
    lead_id = await _insert(session, lead_in, contact, client, chosen, office_id, now)
    if chosen.employee_id is not None:
        await clients.set_owner_if_unowned(session, client.id, chosen.employee_id, now=now)
    await notify.lead_arrived(
        session,
        lead_id=lead_id,
        assignee_id=chosen.employee_id,
        now=now,
        default_locale=company.locale,
    )
    return IntakeResult(
        False,
        lead_id,
        client.id,
        not client.created,
        chosen.employee_id,
        chosen.reason,
        contact.warnings,
    )


@dataclass
class _Contact:
    identities: list[clients.Identity] = field(default_factory=list)
    phone: str | None = None
    raw_phone: str | None = None
    email: str | None = None
    warnings: list[str] = field(default_factory=list)


def _contact(lead_in: LeadIn, region: str) -> _Contact:
    contact = _Contact()
    if lead_in.phone:
        try:
            contact.phone = normalize_phone(lead_in.phone, region)
            contact.identities.append((Channel.PHONE, contact.phone))
        except InvalidPhone:
            contact.raw_phone = lead_in.phone
            contact.warnings.append("invalid_phone")
    if lead_in.email:
        try:
            contact.email = normalize_email(lead_in.email)
            contact.identities.append((Channel.EMAIL, contact.email))
        except InvalidEmail:
            contact.warnings.append("invalid_email")
    return contact


async def _office_id(session: AsyncSession, name: str | None, warnings: list[str]) -> int | None:
    if not name:
        return None
    stmt = sa.select(Office.id).where(Office.name == name)
    office_id = (await session.execute(stmt)).scalar_one_or_none()
    if office_id is None:
        warnings.append("unknown_office")  # the lead is kept; the office is left open
    return office_id


async def _insert(
    session: AsyncSession,
    lead_in: LeadIn,
    contact: _Contact,
    client: clients.ResolvedClient,
    chosen: assignment.Assignment,
    office_id: int | None,
    now: datetime,
) -> int:
    extra = dict(lead_in.extra)
    if "invalid_email" in contact.warnings:
        extra["raw_email"] = lead_in.email
    if "unknown_office" in contact.warnings:
        extra["unknown_office"] = lead_in.office
    stmt = sa.insert(Lead).values(
        client_id=client.id,
        status=LeadStatus.NEW,
        source=lead_in.source,
        form_name=lead_in.form_name,
        landing_url=lead_in.landing_url,
        name=lead_in.name,
        phone=contact.phone,
        raw_phone=contact.raw_phone,
        phone_invalid=contact.raw_phone is not None,
        email=contact.email,
        comment=lead_in.comment,
        extra=extra,
        office_id=office_id or chosen.office_id,
        assignee_id=chosen.employee_id,
        is_returning=not client.created,
        created_at=now,
        updated_at=now,
        **{k: lead_in.utm.get(k) for k in UTM_FIELDS},
    )
    return (await session.execute(stmt.returning(Lead.id))).scalar_one()


async def take(session: AsyncSession, lead_id: int, *, by: Actor, company: Company) -> Lead:
    """The employee accepts the lead: it becomes theirs, a target lead, and a deal."""
    lead = await _for_action(session, lead_id, by)
    if lead.status is not LeadStatus.NEW:
        if lead.status is LeadStatus.TARGET and lead.assignee_id == by.id:
            return lead  # a second press of the same button
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    now = company.clock.now()
    lead.status, lead.assignee_id, lead.taken_at = LeadStatus.TARGET, by.id, now
    lead.first_response_seconds = max(int((now - lead.created_at).total_seconds()), 0)
    await clients.set_owner_if_unowned(session, lead.client_id, by.id, now=now)
    await deals.open_for_lead(session, lead, owner_id=by.id, currency=company.currency, now=now)
    await audit.log(
        session,
        action="lead.taken",
        entity_type="lead",
        entity_id=lead.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
    )
    await session.flush()
    await notify.lead_changed(session, lead_id=lead.id, now=now)
    return lead


async def reject(
    session: AsyncSession, lead_id: int, status: LeadStatus, *, by: Actor, company: Company
) -> Lead:
    """Mark the lead non-target or spam; it is closed and stays in the reports."""
    if status not in (LeadStatus.NON_TARGET, LeadStatus.SPAM):
        raise InvalidInput("a lead can be rejected only as non-target or spam")
    lead = await _for_action(session, lead_id, by)
    if lead.status is status:
        return lead
    if lead.status is not LeadStatus.NEW:
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    now = company.clock.now()
    lead.status, lead.closed_at, lead.closed_by_id = status, now, by.id
    if lead.first_response_seconds is None:
        lead.first_response_seconds = max(int((now - lead.created_at).total_seconds()), 0)
    await audit.log(
        session,
        action=f"lead.{status.value}",
        entity_type="lead",
        entity_id=lead.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
    )
    await session.flush()
    await notify.lead_changed(session, lead_id=lead.id, now=now)
    return lead


async def get(session: AsyncSession, lead_id: int) -> Lead:
    lead = await session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    return lead


async def _for_action(session: AsyncSession, lead_id: int, by: Actor) -> Lead:
    lead = await session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    access.require_lead_action(by, assignee_id=lead.assignee_id, office_id=lead.office_id)
    return lead
