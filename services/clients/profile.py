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


async def survivor(session: AsyncSession, client_id: int) -> int:
    """The client a (possibly merged) client lives on as; NotFound if there is none."""
    for _ in range(MERGE_HOPS):
        found = await session.get(Client, client_id)
        if found is None:
            raise NotFound("no such client", key="client.not_found", client_id=client_id)
        if found.merged_into_id is None:
            return found.id
        client_id = found.merged_into_id
    raise NotFound("no such client", key="client.not_found", client_id=client_id)


async def load(session: AsyncSession, client_id: int, *, by: HasRole, page: int = 0) -> Profile:
    """The card of a client `by` may see (NotFound / AccessDenied otherwise), with timeline
    page `page` (NotFound for a page past the end). Three queries: the client with its owner,
    open deals and whether `by` may see it; its addresses, contact persons and tags; the
    timeline page."""
    head = await _head(session, client_id, by)
    rows = await _details().all(session, {"client_id": head.id})
    identities = sorted((i, Channel(a), b, c) for part, i, a, b, c in rows if part == "i")
    people = sorted((i, b) for part, i, _, b, _ in rows if part == "p")
    contacts = [
        Contact(name, [a for _, ch, a, of in identities if of == person_id and ch is Channel.PHONE])
        for person_id, name in people
    ]
    return Profile(
        client_id=head.id,
        name=head.name,
        company=head.company,
        contacts=contacts,
        addresses=[Address(i, ch, a) for i, ch, a, of in identities if of is None],
        owner=head.owner,
        tags=sorted(b for part, _, _, b, _ in rows if part == "t"),
        open_deals=head.open_deals,
        timeline=await timeline.page(session, head.id, page),
        can_merge=by.role in (Role.MANAGER, Role.ADMIN),
    )


async def _head(session: AsyncSession, client_id: int, by: HasRole) -> Any:
    """The client (following merges) with owner, open deals and visibility, one query a hop."""
    stmt, params = _head_statement(visibility.visible(by)), visibility.params(by)
    for _ in range(MERGE_HOPS):
        row = await stmt.first(session, params | {"client_id": client_id})
        if row is None:
            break
        if row.merged_into_id is not None:
            client_id = row.merged_into_id
            continue
        if not row.visible:
            raise AccessDenied("not your client", key="client.no_access", client_id=client_id)
        return row
    raise NotFound("no such client", key="client.not_found", client_id=client_id)


@cache  # one per visibility clause (each is built once): building costs more than running
def _head_statement(visible: sa.ColumnElement[bool]) -> Prepared:
    owner = sa.select(Employee.name).where(Employee.id == Client.owner_id).scalar_subquery()
    open_deals = (
        sa.select(sa.func.count())
        .select_from(Deal)
        .where(Deal.client_id == Client.id, Deal.status == DealStatus.OPEN)
        .scalar_subquery()
    )
    return Prepared(
        sa.select(
            Client.id,
            Client.name,
            Client.company,
            Client.merged_into_id,
            owner.label("owner"),
            open_deals.label("open_deals"),
            sa.case((visible, True), else_=False).label("visible"),
        ).where(Client.id == sa.bindparam("client_id", type_=sa.BigInteger))
    )


@cache
def _details() -> Prepared:
    """A client's addresses, contact persons and tags (`:client_id`) in one query."""
    client_id = sa.bindparam("client_id", type_=sa.BigInteger)
    details = sa.union_all(
        sa.select(
            sa.literal("i").label("part"),
            ChannelIdentity.id.label("id"),
            sa.cast(ChannelIdentity.channel, sa.String).label("a"),
            ChannelIdentity.address.label("b"),
            ChannelIdentity.contact_person_id.label("c"),
        ).where(ChannelIdentity.client_id == client_id),
        sa.select(
            sa.literal("p"), ContactPerson.id, sa.null(), ContactPerson.name, sa.null()
        ).where(ContactPerson.client_id == client_id),
        sa.select(sa.literal("t"), sa.literal(0), sa.null(), ClientTag.tag, sa.null()).where(
            ClientTag.client_id == client_id
        ),
    )
    return Prepared(sa.select(details.subquery()))


@dataclass(frozen=True)
class LeadItem:
    lead_id: int
    created_at: datetime
    source: str
    status: LeadStatus


async def leads_of(session: AsyncSession, client_id: int, *, by: HasRole) -> list[LeadItem]:
    """The client's newest leads (for a client `by` may see)."""
    client = await visibility.require(session, await survivor(session, client_id), by)
    stmt = (
        sa.select(Lead.id, Lead.created_at, Lead.source, Lead.status)
        .where(Lead.client_id == client.id)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(LIST_LIMIT)
    )
    return [LeadItem(*row) for row in (await session.execute(stmt)).all()]


@dataclass(frozen=True)
class DealItem:
    deal_id: int
    title: str
    stage: str
    status: DealStatus
    amount: Decimal | None


async def deals_of(session: AsyncSession, client_id: int, *, by: HasRole) -> list[DealItem]:
    """The client's deals, open ones first, newest first (for a client `by` may see)."""
    client = await visibility.require(session, await survivor(session, client_id), by)
    stmt = (
        sa.select(Deal.id, Deal.title, PipelineStage.name, Deal.status, Deal.amount)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(Deal.client_id == client.id)
        .order_by((Deal.status == DealStatus.OPEN).desc(), Deal.created_at.desc(), Deal.id.desc())
        .limit(LIST_LIMIT)
    )
    return [DealItem(*row) for row in (await session.execute(stmt)).all()]
