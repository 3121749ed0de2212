"""Intake: incoming requests from any channel become leads, set-based.

`register_many` takes a batch of requests (the HTTP edge groups concurrent deliveries into
one unit of work) and does the work of each step for the whole batch in one statement:
validate → record deliveries (dedupe) → find clients by any identity → assign →
create clients and attach identities → insert leads → write cards to the outbox.
`register_incoming` is the same path for one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, InboundEvent, Lead, LeadStatus, Office, PhoneLine
from models.db import insert_ignoring_conflicts
from models.lead import UTM_FIELDS
from services import assignment, clients, notify
from services.assignment import Assignment, Reason
from services.clients import Identity, ResolvedClient
from services.clients.identities import normalize_email, normalize_phone
from services.context import Company
from services.errors import DomainError, InvalidEmail, InvalidInput, InvalidPhone
from services.leads.inputs import LeadIn


@dataclass(frozen=True)
class Incoming:
    lead: LeadIn
    event: tuple[str, str] | None = None  # the provider's (source, delivery id): dedupe key
    # Addresses the channel itself vouches for (a WhatsApp id, a Telegram chat): the client is
    # found by them, and a new client gets them on record.
    identities: tuple[Identity, ...] = ()


@dataclass(frozen=True)
class IntakeResult:
    duplicate: bool
    lead_id: int | None = None
    client_id: int | None = None
    returning: bool = False
    assignee_id: int | None = None
    reason: Reason | None = None
    warnings: list[str] = field(default_factory=list)


DUPLICATE = IntakeResult(duplicate=True)


@dataclass
class _Item:
    incoming: Incoming
    identities: list[Identity] = field(default_factory=list)
    phone: str | None = None
    raw_phone: str | None = None
    email: str | None = None
    warnings: list[str] = field(default_factory=list)
    office_id: int | None = None
    line_id: int | None = None
    client: ResolvedClient | None = None
    returning: bool = False
    chosen: Assignment | None = None
    lead_id: int | None = None

    @property
    def lead(self) -> LeadIn:
        return self.incoming.lead


async def register_incoming(
    session: AsyncSession,
    lead_in: LeadIn,
    *,
    company: Company,
    event: tuple[str, str] | None = None,
) -> IntakeResult:
    """Record one incoming request; raises the typed error of a request a user got wrong."""
    [result] = await register_many(session, [Incoming(lead_in, event)], company=company)
    if isinstance(result, DomainError):
        raise result
    return result


async def register_many(
    session: AsyncSession, batch: list[Incoming], *, company: Company
) -> list[IntakeResult | DomainError]:
    """Register a batch; each request gets its result, or the error of its own bad input."""
    results: list[IntakeResult | DomainError | None] = [None] * len(batch)
    items: dict[int, _Item] = {}
    for i, incoming in enumerate(batch):
        item = _normalise(incoming, company.region)
        if isinstance(item, DomainError):
            results[i] = item
        else:
            items[i] = item
    for i in await _record_deliveries(session, items, company):
        results[i] = DUPLICATE
        del items[i]
    if items:
        now = company.clock.now()
        work = list(items.values())
        await _resolve_offices(session, work)
        await _resolve_lines(session, work)
        await _find_clients(session, work)
        people = list(_people(work).values())
        await _assign(session, people, now, company)
        await _create_clients(session, people, now)
        await _insert_leads(session, work, now)
        await notify.leads_arrived(
            session,
            [(item.lead_id, item.chosen) for item in work],  # type: ignore[misc]
            now=now,
            default_locale=company.locale,
        )
        for i, item in items.items():
            results[i] = _result(item)
    return results  # type: ignore[return-value]


def _normalise(incoming: Incoming, region: str) -> _Item | DomainError:
    lead = incoming.lead
    item = _Item(incoming, warnings=[f"truncated:{name}" for name in lead.truncated])
    if lead.phone:
        try:
            item.phone = normalize_phone(lead.phone, region)
            item.identities.append((Channel.PHONE, item.phone))
        except InvalidPhone:
            item.raw_phone = lead.phone
            item.warnings.append("invalid_phone")
    if lead.email:
        try:
            item.email = normalize_email(lead.email)
            item.identities.append((Channel.EMAIL, item.email))
        except InvalidEmail:
            item.warnings.append("invalid_email")
    item.identities += [i for i in incoming.identities if i not in item.identities]
    if not item.identities and not item.raw_phone and not lead.name:
        return InvalidInput("a lead needs a phone, an e-mail or at least a name")
    return item


async def _record_deliveries(
    session: AsyncSession, items: dict[int, _Item], company: Company
) -> list[int]:
    """Record each delivery once; returns the batch positions that are repeats.

    A concurrent duplicate waits on the unique (source, external_id) index and then sees the
    row (PostgreSQL), or is serialised by the write lock (SQLite).
    """
    keyed = [(i, item.incoming.event) for i, item in items.items() if item.incoming.event]
    if not keyed:
        return []
    now = company.clock.now()
    stmt = insert_ignoring_conflicts(session, InboundEvent.__table__).returning(
        InboundEvent.source, InboundEvent.external_id
    )
    params = [dict(source=s, external_id=e[:200], received_at=now) for _, (s, e) in keyed]
    fresh = {tuple(row) for row in (await session.execute(stmt, params)).all()}
    repeats, seen = [], set()
    for i, (source, external_id) in keyed:
        key = (source, external_id[:200])
        if key not in fresh or key in seen:
            repeats.append(i)
        seen.add(key)
    return repeats


async def _resolve_offices(session: AsyncSession, work: list[_Item]) -> None:
    names = {item.lead.office for item in work if item.lead.office}
    if not names:
        return
    rows = await session.execute(sa.select(Office.name, Office.id).where(Office.name.in_(names)))
    ids = {name: office_id for name, office_id in rows.all()}
    for item in work:
        if item.lead.office:
            item.office_id = ids.get(item.lead.office)
            if item.office_id is None:
                item.warnings.append("unknown_office")  # kept; the office is left open


async def _resolve_lines(session: AsyncSession, work: list[_Item]) -> None:
    numbers = {item.lead.line_number for item in work if item.lead.line_number}
    if not numbers:
        return
    rows = await session.execute(
        sa.select(PhoneLine.number, PhoneLine.id).where(PhoneLine.number.in_(numbers))
    )
    ids = {number: line_id for number, line_id in rows.all()}
    for item in work:
        item.line_id = ids.get(item.lead.line_number or "")


async def _find_clients(session: AsyncSession, work: list[_Item]) -> None:
    everyone = sorted({i for item in work for i in item.identities})
    found = await clients.find_many(session, everyone)
    for item in work:
        item.client = clients.best_match(found, item.identities)


def _people(work: list[_Item]) -> dict[object, list[_Item]]:
    """The batch's items grouped by person, in order: a known client is one person, and so
    are new leads sharing a phone or e-mail (a form resent, a call and then a form)."""
    people: dict[object, list[_Item]] = {}
    person_of: dict[Identity, object] = {}
    for n, item in enumerate(work):
        key: object = (
            ("client", item.client.id)
            if item.client
            else next((person_of[i] for i in item.identities if i in person_of), ("new", n))
        )
        person_of.update({i: key for i in item.identities})
        people.setdefault(key, []).append(item)
    return people


async def _assign(
    session: AsyncSession, people: list[list[_Item]], now: datetime, company: Company
) -> None:
    """Returning clients go to their owner; the rest take turns, one turn per person however
    many of their leads are in the batch."""
    turns = []
    for group in people:
        owner = group[0].client.owner if group[0].client else None
        if owner is None:
            turns.append(group)
            continue
        for item in group:
            item.chosen = Assignment(
                owner.id, owner.office_id, Reason.OWNER, owner.telegram_id, owner.locale
            )
    firsts = [group[0] for group in turns]
    offices = [i.office_id or (i.client.office_id if i.client else None) for i in firsts]
    choices = await assignment.choose_many(session, offices, now=now, timezone=company.timezone)
    for group, choice in zip(turns, choices, strict=True):
        for position, item in enumerate(group):
            later = position > 0 and choice.employee_id is not None
            item.chosen = replace(choice, reason=Reason.OWNER) if later else choice
    for group in people:
        for position, item in enumerate(group):
            item.returning = item.client is not None or position > 0


async def _create_clients(session: AsyncSession, people: list[list[_Item]], now: datetime) -> None:
    """One new client per new person; returning clients get the addresses not yet on
    record, a missing name and an owner."""
    seen = [
        clients.Seen(item.client, item.identities, item.lead.name, item.chosen.employee_id)
        for group in people
        for item in group
        if item.client is not None and item.chosen is not None
    ]
    await clients.update_seen_many(session, seen, now=now)
    new = [group for group in people if group[0].client is None]
    created = await clients.create_many(
        session,
        [
            clients.NewClient(
                sorted({i for item in group for i in item.identities}),
                group[0].lead.name,
                group[0].chosen.employee_id if group[0].chosen else None,
            )
            for group in new
        ],
        now=now,
    )
    for group, client in zip(new, created, strict=True):
        for item in group:
            item.client = client
            item.returning = item.returning or not client.created


async def _insert_leads(session: AsyncSession, work: list[_Item], now: datetime) -> None:
    stmt = sa.insert(Lead.__table__).returning(Lead.id, sort_by_parameter_order=True)
    rows = await session.execute(stmt, [_lead_row(item, now) for item in work])
    for item, lead_id in zip(work, rows.scalars().all(), strict=True):
        item.lead_id = lead_id


def _lead_row(item: _Item, now: datetime) -> dict[str, Any]:
    lead, chosen, client = item.lead, item.chosen, item.client
    assert chosen is not None and client is not None
    extra = dict(lead.extra)
    if "invalid_email" in item.warnings:
        extra["raw_email"] = lead.email
    if "unknown_office" in item.warnings:
        extra["unknown_office"] = lead.office
    if lead.truncated:
        extra["_truncated"] = lead.truncated  # so whoever reads the lead knows it was cut
    return dict(
        client_id=client.id,
        status=LeadStatus.NEW,
        source=lead.source,
        form_name=lead.form_name,
        landing_url=lead.landing_url,
        name=lead.name,
        phone=item.phone,
        raw_phone=item.raw_phone,
        phone_invalid=item.raw_phone is not None,
        email=item.email,
        comment=lead.comment,
        extra=extra,
        office_id=item.office_id or chosen.office_id,
        line_id=item.line_id,
        assignee_id=chosen.employee_id,
        is_returning=item.returning,
        created_at=now,
        updated_at=now,
        **{k: lead.utm.get(k) for k in UTM_FIELDS},
    )


def _result(item: _Item) -> IntakeResult:
    assert item.client is not None and item.chosen is not None
    return IntakeResult(
        False,
        item.lead_id,
        item.client.id,
        item.returning,
        item.chosen.employee_id,
        item.chosen.reason,
        item.warnings,
    )
