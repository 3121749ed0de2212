"""The client card: who the client is, how to reach them, whose they are, and a page of their
timeline. Read only for those who may see the client (`visibility`); a client merged into
another shows the survivor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Channel,
    ChannelIdentity,
    Client,
    ClientTag,
    ContactPerson,
    Deal,
    DealStatus,
    Employee,
    Lead,
    LeadStatus,
    PipelineStage,
    Role,
)
from models.prepared import Prepared
from services.access import HasRole
from services.clients import timeline, visibility
from services.errors import AccessDenied, NotFound

MERGE_HOPS = 5  # a merged client's survivor may itself have been merged since
LIST_LIMIT = 20  # leads or deals listed from a card


@dataclass(frozen=True)
class Address:
    identity_id: int
    channel: Channel
    address: str


@dataclass(frozen=True)
class Contact:
    name: str | None
    phones: list[str]


@dataclass(frozen=True)
class Profile:
    client_id: int
    name: str | None
    company: str | None
    contacts: list[Contact]
    addresses: list[Address]  # the client's own (not a contact person's)
    owner: str | None
    tags: list[str]
    open_deals: int
    timeline: timeline.Page
    can_merge: bool

    def of(self, channel: Channel) -> list[Address]:
        return [a for a in self.addresses if a.channel is channel]


async def load(session: AsyncSession, client_id: int, *, by: HasRole, page: int = 0) -> Profile:
    """The card of a client `by` may see (NotFound / AccessDenied otherwise), with timeline
    page `page` (NotFound for a page past the end). Two queries: the client with its owner,
    open deals, whether `by` may see it, its addresses, contact persons and tags; the timeline
    page."""
    head, rows = await _card(session, client_id, by)
    identities = sorted((r.id, Channel(r.a), r.b, r.c) for r in rows if r.part == "i")
    people = sorted((r.id, r.b) for r in rows if r.part == "p")
    contacts = [
        Contact(name, [a for _, ch, a, of in identities if of == person_id and ch is Channel.PHONE])
        for person_id, name in people
    ]
    return Profile(
        client_id=head.id,
        name=head.a,
        company=head.b,
        contacts=contacts,
        addresses=[Address(i, ch, a) for i, ch, a, of in identities if of is None],
        owner=head.d,
        tags=sorted(r.b for r in rows if r.part == "t"),
        open_deals=head.e,
        timeline=await timeline.page(session, head.id, page),
        can_merge=by.role in (Role.MANAGER, Role.ADMIN),
    )


async def _card(session: AsyncSession, client_id: int, by: HasRole) -> tuple[Any, list[Any]]:
    """The client (following merges) and its details, one query a hop: the head row ("h":
    id, name as `a`, company as `b`, merged into as `c`, owner as `d`, open deals as `e`,
    visible to `by` as `f`) and the detail rows."""
    return await _follow(session, _card_statement(visibility.visible(by)), client_id, by)


async def _follow(
    session: AsyncSession, stmt: Prepared, client_id: int, by: HasRole
) -> tuple[Any, list[Any]]:
    """Runs `stmt` (rows with `part`; the "h" row has `c` merged into and `f` visible) for
    the client and then for whom it was merged into, up to MERGE_HOPS; the head row of the
    survivor `by` may see and the other rows. NotFound / AccessDenied otherwise."""
    params = visibility.params(by)
    for _ in range(MERGE_HOPS):
        rows = await stmt.all(session, params | {"client_id": client_id})
        head = next((r for r in rows if r.part == "h"), None)
        if head is None:
            break
        if head.c is not None:  # merged: the survivor's
            client_id = head.c
            continue
        if not head.f:
            raise AccessDenied("not your client", key="client.no_access", client_id=client_id)
        return head, [r for r in rows if r.part != "h"]
    raise NotFound("no such client", key="client.not_found", client_id=client_id)


@cache  # one per visibility clause (each is built once): building costs more than running
def _card_statement(visible: sa.ColumnElement[bool]) -> Prepared:
    """One UNION ALL of the client's head row and its details (`:client_id`); columns that a
    part does not use are typed NULLs."""
    client_id = sa.bindparam("client_id", type_=sa.BigInteger)
    owner = sa.select(Employee.name).where(Employee.id == Client.owner_id).scalar_subquery()
    open_deals = (
        sa.select(sa.func.count())
        .select_from(Deal)
        .where(Deal.client_id == Client.id, Deal.status == DealStatus.OPEN)
        .scalar_subquery()
    )

    def unused(type_: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
        return sa.cast(sa.null(), type_)

    text, number = sa.String(), sa.BigInteger()
    head = sa.select(
        sa.literal("h", text).label("part"),
        Client.id.label("id"),
        Client.name.label("a"),
        Client.company.label("b"),
        Client.merged_into_id.label("c"),
        owner.label("d"),
        sa.cast(open_deals, number).label("e"),
        sa.case((visible, 1), else_=0).label("f"),
    ).where(Client.id == client_id)
    ci = ChannelIdentity
    details = [
        sa.select(
            sa.literal("i", text),
            ci.id,
            sa.cast(ci.channel, text),
            ci.address,
            ci.contact_person_id,
            unused(text),
            unused(number),
            unused(sa.Integer()),
        ).where(ci.client_id == client_id),
        sa.select(
            sa.literal("p", text),
            ContactPerson.id,
            unused(text),
            ContactPerson.name,
            unused(number),
            unused(text),
            unused(number),
            unused(sa.Integer()),
        ).where(ContactPerson.client_id == client_id),
        sa.select(
            sa.literal("t", text),
            sa.cast(sa.literal(0), number),
            unused(text),
            ClientTag.tag,
            unused(number),
            unused(text),
            unused(number),
            unused(sa.Integer()),
        ).where(ClientTag.client_id == client_id),
    ]
    return Prepared(sa.select(sa.union_all(head, *details).subquery()))


@dataclass(frozen=True)
class LeadItem:
    lead_id: int
    created_at: datetime
    source: str
    status: LeadStatus


async def leads_of(session: AsyncSession, client_id: int, *, by: HasRole) -> list[LeadItem]:
    """The client's newest leads (for a client `by` may see)."""
    found = await _seen(session, client_id, by)
    return [LeadItem(*row) for row in await _leads_statement().all(session, {"client_id": found})]


@cache
def _leads_statement() -> Prepared:
    return Prepared(
        sa.select(Lead.id, Lead.created_at, Lead.source, Lead.status)
        .where(Lead.client_id == sa.bindparam("client_id", type_=sa.BigInteger))
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(LIST_LIMIT)
    )


@dataclass(frozen=True)
class DealItem:
    deal_id: int
    title: str
    stage: str
    status: DealStatus
    amount: Decimal | None


async def deals_of(session: AsyncSession, client_id: int, *, by: HasRole) -> list[DealItem]:
    """The client's deals, open ones first, newest first (for a client `by` may see)."""
    found = await _seen(session, client_id, by)
    return [DealItem(*row) for row in await _deals_statement().all(session, {"client_id": found})]


@cache
def _deals_statement() -> Prepared:
    return Prepared(
        sa.select(Deal.id, Deal.title, PipelineStage.name, Deal.status, Deal.amount)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(Deal.client_id == sa.bindparam("client_id", type_=sa.BigInteger))
        .order_by((Deal.status == DealStatus.OPEN).desc(), Deal.created_at.desc(), Deal.id.desc())
        .limit(LIST_LIMIT)
    )


async def _seen(session: AsyncSession, client_id: int, by: HasRole) -> int:
    """The id of the client (following merges) if `by` may see it; NotFound / AccessDenied
    otherwise. One query a hop."""
    head, _ = await _follow(session, _seen_statement(visibility.visible(by)), client_id, by)
    return int(head.id)


@cache  # one per visibility clause
def _seen_statement(visible: sa.ColumnElement[bool]) -> Prepared:
    """The head row of `_card_statement` alone: part "h", id, merged into (`c`), visible
    (`f`)."""
    return Prepared(
        sa.select(
            sa.literal("h", sa.String()).label("part"),
            Client.id,
            Client.merged_into_id.label("c"),
            sa.case((visible, 1), else_=0).label("f"),
        ).where(Client.id == sa.bindparam("client_id", type_=sa.BigInteger))
    )
