"""The admin web's lead list: leads matching a filter, newest or oldest first, a page at a time
by key (services.listing), exported whole; the same filter says which leads a bulk change
(services.bulk.rejecting) marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from models import Client, Employee, Lead, LeadStatus
from services import listing
from services.clients.matching import searchable

PAGE_SIZE = 50
_ASSIGNEE = aliased(Employee, name="assignee")


class LeadSort(StrEnum):
    NEWEST = "new"
    OLDEST = "old"


ORDERS = {
    LeadSort.NEWEST: listing.Order(None, descending=True),
    LeadSort.OLDEST: listing.Order(None, descending=False),
}


@dataclass(frozen=True)
class LeadFilter:
    """What the admin's lead list shows: any of a status, a source, an assignee, creation
    dates (from `since` to before `until`), words in the name, phone or e-mail; an office
    (the lead's office, or else its assignee's)."""

    status: LeadStatus | None = None
    source: str | None = None
    assignee_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    office_id: int | None = None
    lead_id: int | None = None  # this one only (a record page)
    ids: tuple[int, ...] | None = None  # these only (rows ticked for a bulk change)


@dataclass(frozen=True)
class LeadRow:
    id: int
    created_at: datetime
    name: str | None
    phone: str | None
    raw_phone: str | None
    source: str
    utm_source: str | None
    status: LeadStatus
    assignee: str | None
    first_response_seconds: int | None


def conditions(shown: LeadFilter) -> list[ColumnElement[bool]]:
    """`shown` as conditions on the leads table alone (a page's window reads nothing else)."""
    found: list[ColumnElement[bool]] = []
    if shown.ids is not None:
        found.append(Lead.id.in_(shown.ids))
    if shown.lead_id is not None:
        found.append(Lead.id == shown.lead_id)
    if shown.status is not None:
        found.append(Lead.status == shown.status)
    if shown.source:
        found.append(Lead.source == shown.source)
    if shown.assignee_id is not None:
        found.append(Lead.assignee_id == shown.assignee_id)
    if shown.since is not None:
        found.append(Lead.created_at >= shown.since)
    if shown.until is not None:
        found.append(Lead.created_at < shown.until)
    if shown.text and shown.text.strip():
        typed = f"%{listing.escaped(shown.text.strip())}%"
        folded = f"%{listing.escaped(searchable(shown.text))}%"  # SQLite's lower(): no Cyrillic
        clients = sa.select(Client.id).where(Client.search_text.like(folded, escape="\\"))
        found.append(
            sa.or_(
                Lead.client_id.in_(clients),
                *[
                    column.ilike(typed, escape="\\")
                    for column in (Lead.name, Lead.phone, Lead.raw_phone, Lead.email)
                ],
            )
        )
    if shown.office_id is not None:
        found.append(listing.in_office(Lead.office_id, Lead.assignee_id, shown.office_id))
    return found


def matching(shown: LeadFilter) -> sa.Select[tuple[int]]:
    """The ids of the leads `shown` picks (a bulk change's choice)."""
    return sa.select(Lead.id).where(*conditions(shown))


async def page(
    session: AsyncSession,
    shown: LeadFilter,
    *,
    sort: LeadSort = LeadSort.NEWEST,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> listing.Page[LeadRow]:
    order = ORDERS[sort]
    window = listing.window(order, Lead.id, conditions(shown), after, size)
    stmt = (
        sa.select(
            Lead.id,
            Lead.created_at,
            Lead.name,
            Lead.phone,
            Lead.raw_phone,
            Lead.source,
            Lead.utm_source,
            Lead.status,
            _ASSIGNEE.name,
            Lead.first_response_seconds,
            window.c.sort_key,
        )
        .select_from(window)
        .join(Lead, Lead.id == window.c.id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Lead.assignee_id)
        .order_by(*listing.in_order(window, order))
    )
    return await listing.fetch(session, stmt, order, size, LeadRow)
