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
    head, details = await _card(session, client_id, by)
    rows = _details(details)
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


async def _card(session: AsyncSession, client_id: int, by: HasRole) -> tuple[Any, list[Any]]:
    """The client (following merges) with owner, open deals and visibility (the head row),
    and its detail rows (`_detail`); one query a hop."""
    return await _follow(session, _card_statement(visibility.visible(by)), client_id, by)


async def _follow(
    session: AsyncSession, stmt: Prepared, client_id: int, by: HasRole
) -> tuple[Any, list[Any]]:
    """Runs `stmt` (rows with `part`; the "h" row has `merged_into_id` and `visible`) for the
    client and then for whom it was merged into, up to MERGE_HOPS: the head row of the
    survivor, if `by` may see it, and the other rows. NotFound / AccessDenied otherwise."""
    params = visibility.params(by)
    for _ in range(MERGE_HOPS):
        rows = await stmt.all(session, params | {"client_id": client_id})
        head = next((r for r in rows if r.part == "h"), None)
        if head is None:
            break
        if head.merged_into_id is not None:
            client_id = head.merged_into_id
            continue
        if not head.visible:
            raise AccessDenied("not your client", key="client.no_access", client_id=client_id)
        return head, [r for r in rows if r.part != "h"]
    raise NotFound("no such client", key="client.not_found", client_id=client_id)


_CLIENT_ID = sa.bindparam("client_id", type_=sa.BigInteger)
_TEXT, _NUMBER = sa.String(), sa.BigInteger()


def _head(visible: sa.ColumnElement[bool], *also: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """The head row of client `:client_id`: part "h", id, merged_into_id, visible (to whom
    `visible` was built for), and `also`."""
    return sa.select(
        sa.literal("h", _TEXT).label("part"),
        Client.id.label("id"),
        Client.merged_into_id.label("merged_into_id"),
        sa.case((visible, 1), else_=0).label("visible"),
        *also,
    ).where(Client.id == _CLIENT_ID)


@cache  # one per visibility clause (each is built once): building costs more than running
def _card_statement(visible: sa.ColumnElement[bool]) -> Prepared:
    """One UNION ALL of the client's head row (with name, company, owner, open deals) and its
    detail rows (`_detail`), which fill the head's columns by position."""
    owner = sa.select(Employee.name).where(Employee.id == Client.owner_id).scalar_subquery()
    open_deals = (
        sa.select(sa.func.count())
        .select_from(Deal)
        .where(Deal.client_id == Client.id, Deal.status == DealStatus.OPEN)
        .scalar_subquery()
    )
    head = _head(
        visible,
        Client.name.label("name"),
        Client.company.label("company"),
        owner.label("owner"),
        sa.cast(open_deals, _NUMBER).label("open_deals"),
    )
    ci, person, tag = ChannelIdentity, ContactPerson, ClientTag
    details = (
        _detail(
            "i",
            ci.id,
            ci.client_id,
            a=sa.cast(ci.channel, _TEXT),
            b=ci.address,
            c=ci.contact_person_id,
        ),
        _detail("p", person.id, person.client_id, b=person.name),
        _detail("t", sa.cast(sa.literal(0), _NUMBER), tag.client_id, b=tag.tag),
    )
    return Prepared(sa.select(sa.union_all(head, *details).subquery()))


def _detail(
    part: str,
    id_: sa.ColumnElement[Any],
    client_id: sa.ColumnElement[int],
    *,
    b: sa.ColumnElement[Any],
    a: sa.ColumnElement[Any] | None = None,
    c: sa.ColumnElement[Any] | None = None,
) -> sa.Select[Any]:
    """A detail row of client `:client_id` in the head row's columns (`_details` reads them
    back): "i" an identity (id, channel as `a`, address as `b`, contact person as `c`), "p" a
    contact person (id, name as `b`), "t" a tag (`b`); the head's other columns typed NULLs."""

    def empty(type_: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
        return sa.cast(sa.null(), type_)

    return sa.select(
        sa.literal(part, _TEXT),
        id_,
        c if c is not None else empty(_NUMBER),  # in merged_into_id
        empty(sa.Integer()),  # visible
        a if a is not None else empty(_TEXT),  # name
        b,  # company
        empty(_TEXT),  # owner
        empty(_NUMBER),  # open_deals
    ).where(client_id == _CLIENT_ID)


def _details(rows: list[Any]) -> list[tuple[str, int, Any, Any, Any]]:
    """`_detail` rows as (part, id, a, b, c)."""
    return [(r[0], r[1], r[4], r[5], r[2]) for r in rows]


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
    return Prepared(_head(visible))
