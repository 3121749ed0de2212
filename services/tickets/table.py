"""The admin web's ticket list (the support desk's tickets): matching a filter, newest or
oldest first, a page at a time by key (services.listing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from models import Client, Employee, Ticket, TicketStatus
from models.text import folded
from services import listing
from services.clients.matching import searchable

PAGE_SIZE = 50
_AUTHOR = aliased(Employee, name="author")
_ASSIGNEE = aliased(Employee, name="assignee")


class TicketSort(StrEnum):
    NEWEST = "new"
    OLDEST = "old"


ORDERS = {
    TicketSort.NEWEST: listing.Order(None, descending=True),
    TicketSort.OLDEST: listing.Order(None, descending=False),
}


@dataclass(frozen=True)
class TicketFilter:
    """Tickets of a status, a category, taken by someone, written by someone of an office (the
    author's), opened from `since` to before `until`, with words in the subject."""

    status: TicketStatus | None = None
    category: str | None = None
    assignee_id: int | None = None
    office_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def conditions(shown: TicketFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if shown.status is not None:
        found.append(Ticket.status == shown.status)
    if shown.category:
        found.append(Ticket.category == shown.category)
    if shown.assignee_id is not None:
        found.append(Ticket.assignee_id == shown.assignee_id)
    if shown.since is not None:
        found.append(Ticket.created_at >= shown.since)
    if shown.until is not None:
        found.append(Ticket.created_at < shown.until)
    if shown.text and shown.text.strip():
        words = f"%{listing.escaped(searchable(shown.text))}%"
        found.append(folded(Ticket.subject).like(words, escape="\\"))
    if shown.office_id is not None:
        staff = sa.select(Employee.id).where(Employee.office_id == shown.office_id)
        found.append(Ticket.author_id.in_(staff))  # an office's tickets: its people's
    return found


@dataclass(frozen=True)
class TicketRow:
    id: int
    created_at: datetime
    category: str
    subject: str
    status: TicketStatus
    author: str | None
    assignee: str | None
    client_id: int | None
    client: str | None


async def page(
    session: AsyncSession,
    shown: TicketFilter,
    *,
    sort: TicketSort = TicketSort.NEWEST,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> listing.Page[TicketRow]:
    order = ORDERS[sort]
    window = listing.window(order, Ticket.id, conditions(shown), after, size)
    stmt = (
        sa.select(
            Ticket.id,
            Ticket.created_at,
            Ticket.category,
            Ticket.subject,
            Ticket.status,
            _AUTHOR.name,
            _ASSIGNEE.name,
            Ticket.client_id,
            Client.name,
            window.c.sort_key,
        )
        .select_from(window)
        .join(Ticket, Ticket.id == window.c.id)
        .outerjoin(_AUTHOR, _AUTHOR.id == Ticket.author_id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Ticket.assignee_id)
        .outerjoin(Client, Client.id == Ticket.client_id)
        .order_by(*listing.in_order(window, order))
    )
    return await listing.fetch(session, stmt, order, size, TicketRow)
