"""The admin web's client list: clients matching a filter, sorted, a page at a time by key
(services.listing). The same filter says which clients a bulk change (services.bulk) moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from models import ChannelIdentity, Client, ClientTag, ContactPerson, Employee, Office
from services import listing
from services.clients import timeline
from services.clients.matching import searchable
from services.errors import NotFound

PAGE_SIZE = 50
_OWNER = aliased(Employee, name="owner")


class ClientSort(StrEnum):
    NEWEST = "new"
    OLDEST = "old"
    NAME = "name"


_NAME = sa.func.coalesce(Client.search_text, "")
ORDERS = {
    ClientSort.NEWEST: listing.Order(None, descending=True),
    ClientSort.OLDEST: listing.Order(None, descending=False),
    ClientSort.NAME: listing.Order(_NAME, descending=False, read=str),
}


@dataclass(frozen=True)
class ClientFilter:
    """Clients of an owner, an office (the client's own, else its owner's), with a tag, added
    from `since` to before `until`, with words in their names (people's, company's, contact
    persons'). Merged-away clients are never listed."""

    owner_id: int | None = None
    office_id: int | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    ids: tuple[int, ...] | None = None  # these clients only (rows ticked in the list)


def conditions(shown: ClientFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [Client.merged_into_id.is_(None)]
    if shown.ids is not None:
        found.append(Client.id.in_(shown.ids))
    if shown.owner_id is not None:
        found.append(Client.owner_id == shown.owner_id)
    if shown.tag:
        tagged = sa.select(ClientTag.client_id).where(ClientTag.tag == shown.tag)
        found.append(Client.id.in_(tagged))
    if shown.since is not None:
        found.append(Client.created_at >= shown.since)
    if shown.until is not None:
        found.append(Client.created_at < shown.until)
    if shown.text and shown.text.strip():
        words = f"%{listing.escaped(searchable(shown.text))}%"
        found.append(Client.search_text.like(words, escape="\\"))
    if shown.office_id is not None:
        found.append(listing.in_office(Client.office_id, Client.owner_id, shown.office_id))
    return found


def matching(shown: ClientFilter) -> sa.Select[tuple[int]]:
    """The ids of the clients `shown` picks (for an IN, or to count)."""
    return sa.select(Client.id).where(*conditions(shown))


@dataclass(frozen=True)
class ClientRow:
    id: int
    created_at: datetime
    name: str | None
    company: str | None
    owner: str | None
    office: str | None
    opted_out: bool


async def page(
    session: AsyncSession,
    shown: ClientFilter,
    *,
    sort: ClientSort = ClientSort.NEWEST,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> listing.Page[ClientRow]:
    order = ORDERS[sort]
    window = listing.window(order, Client.id, conditions(shown), after, size)
    stmt = (
        sa.select(
            Client.id,
            Client.created_at,
            Client.name,
            Client.company,
            _OWNER.name,
            Office.name,
            Client.opted_out_at.is_not(None),
            window.c.sort_key,
        )
        .select_from(window)
        .join(Client, Client.id == window.c.id)
        .outerjoin(_OWNER, _OWNER.id == Client.owner_id)
        .outerjoin(Office, Office.id == Client.office_id)
        .order_by(*listing.in_order(window, order))
    )
    return await listing.fetch(session, stmt, order, size, ClientRow)


@dataclass(frozen=True)
class ClientRecord:
    """One client as the admin web's record page shows it."""

    row: ClientRow
    contacts: list[tuple[str, str]]  # (channel, address): phones, e-mails, chats
    tags: list[str]
    history: list[timeline.Entry]
    people: list[tuple[str | None, str | None]] = field(default_factory=list)  # name, position


async def record(
    session: AsyncSession, client_id: int, *, office_id: int | None = None, history_size: int = 50
) -> ClientRecord:
    """NotFound when there is no such client, or (`office_id`: a manager's) it is another
    office's: a URL typed by hand shows nothing of it."""
    found = await page(session, ClientFilter(office_id=office_id, ids=(client_id,)), size=1)
    if not found.rows:
        raise NotFound(f"no client {client_id}", key="web.not_found")
    contacts = await session.execute(
        sa.select(ChannelIdentity.channel, ChannelIdentity.address)
        .where(ChannelIdentity.client_id == client_id)
        .order_by(ChannelIdentity.id)
    )
    tags = await session.scalars(
        sa.select(ClientTag.tag).where(ClientTag.client_id == client_id).order_by(ClientTag.tag)
    )
    people = await session.execute(
        sa.select(ContactPerson.name, ContactPerson.position)
        .where(ContactPerson.client_id == client_id)
        .order_by(ContactPerson.is_primary.desc(), ContactPerson.id)
    )
    history = await timeline.entries(session, client_id, limit=history_size)
    return ClientRecord(
        found.rows[0],
        [(str(getattr(c, "value", c)), a) for c, a in contacts.all()],
        list(tags),
        history,
        [(name, position) for name, position in people.all()],
    )
