"""What is shown of tickets: the card, one reply, the author's list and support's queue (open
tickets by category, oldest first, with their age)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Client, Employee, Office, Role, Ticket, TicketReply, TicketStatus
from services.actors import Actor
from services.errors import AccessDenied, NotFound
from services.tickets.work import require_see

PAGE_SIZE = 8


@dataclass(frozen=True)
class TicketCard:
    id: int
    category: str
    subject: str
    status: TicketStatus
    author_id: int
    author: str
    author_office: str | None
    assignee_id: int | None
    assignee: str | None
    client_id: int | None
    client: str | None
    created_at: datetime
    replies: int
    files: int
    lead_id: int | None = None
    deal_id: int | None = None


@dataclass(frozen=True)
class ReplyView:
    ticket_id: int
    category: str
    id: int
    number: int  # its place in the thread, from 1
    author: str
    by_support: bool
    text: str
    media_kind: str | None
    file_id: str | None
    file_name: str | None
    created_at: datetime
    ticket_status: TicketStatus
    ticket_author_id: int
    ticket_assignee_id: int | None


@dataclass(frozen=True)
class TicketLine:
    id: int
    category: str
    subject: str
    status: TicketStatus
    created_at: datetime
    assignee: str | None


@dataclass(frozen=True)
class CategoryLine:
    category: str
    count: int
    oldest: datetime


async def card(session: AsyncSession, ticket_id: int) -> TicketCard:
    t, e, o, c, r = (
        Ticket.__table__,
        Employee.__table__,
        Office.__table__,
        Client.__table__,
        TicketReply.__table__,
    )
    a = e.alias("assignee")
    row = (
        await session.execute(
            sa.select(
                t.c.id,
                t.c.category,
                t.c.subject,
                t.c.status,
                t.c.author_id,
                e.c.name.label("author"),
                o.c.name.label("office"),
                t.c.assignee_id,
                a.c.name.label("assignee"),
                t.c.client_id,
                c.c.name.label("client"),
                t.c.created_at,
                t.c.lead_id,
                t.c.deal_id,
            )
            .select_from(
                t.join(e, e.c.id == t.c.author_id)
                .outerjoin(o, o.c.id == e.c.office_id)
                .outerjoin(a, a.c.id == t.c.assignee_id)
                .outerjoin(c, c.c.id == t.c.client_id)
            )
            .where(t.c.id == ticket_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such ticket", key="ticket.error.not_found", ticket_id=ticket_id)
    replies, files = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.count(r.c.file_id)).where(r.c.ticket_id == ticket_id)
        )
    ).one()
    return TicketCard(
        row.id,
        row.category,
        row.subject,
        TicketStatus(row.status),
        row.author_id,
        row.author,
        row.office,
        row.assignee_id,
        row.assignee,
        row.client_id,
        row.client,
        row.created_at,
        replies,
        files,
        row.lead_id,
        row.deal_id,
    )


async def reply_view(session: AsyncSession, reply_id: int) -> ReplyView:
    r, t, e = TicketReply.__table__, Ticket.__table__, Employee.__table__
    row = (
        await session.execute(
            sa.select(
                r.c.ticket_id,
                t.c.category,
                r.c.id,
                e.c.name,
                e.c.role,
                r.c.text,
                r.c.media_kind,
                r.c.file_id,
                r.c.file_name,
                r.c.created_at,
                t.c.status,
                t.c.author_id,
                t.c.assignee_id,
            )
            .select_from(r.join(t, t.c.id == r.c.ticket_id).join(e, e.c.id == r.c.author_id))
            .where(r.c.id == reply_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such reply", key="ticket.error.not_found")
    number = await session.scalar(
        sa.select(sa.func.count()).where(r.c.ticket_id == row.ticket_id, r.c.id <= reply_id)
    )
    return ReplyView(
        row.ticket_id,
        row.category,
        row.id,
        int(number or 1),
        row.name,
        Role(row.role) is Role.SUPPORT,
        row.text,
        row.media_kind,
        row.file_id,
        row.file_name,
        row.created_at,
        TicketStatus(row.status),
        row.author_id,
        row.assignee_id,
    )


async def mine(session: AsyncSession, *, by: Actor, page: int = 0) -> tuple[list[TicketLine], int]:
    """The tickets `by` raised: not closed first, then the newest; and how many in all."""
    stmt = _lines().where(Ticket.author_id == by.id)
    stmt = stmt.order_by(
        sa.case((Ticket.status == TicketStatus.CLOSED, 1), else_=0), Ticket.id.desc()
    )
    return await _page(session, stmt, page)


async def queue(session: AsyncSession, *, by: Actor) -> list[CategoryLine]:
    """Support's queue: the tickets waiting for support, per category, with the oldest."""
    _require_support(by)
    stmt = (
        sa.select(Ticket.category, sa.func.count(), sa.func.min(Ticket.created_at))
        .where(Ticket.status == TicketStatus.OPEN)
        .group_by(Ticket.category)
        .order_by(sa.func.min(Ticket.created_at))
    )
    return [CategoryLine(*row) for row in (await session.execute(stmt)).all()]


async def queue_of(
    session: AsyncSession, category: str, *, by: Actor, page: int = 0
) -> tuple[list[TicketLine], int]:
    """The tickets of one category waiting for support, oldest first."""
    _require_support(by)
    stmt = _lines().where(Ticket.status == TicketStatus.OPEN, Ticket.category == category)
    return await _page(session, stmt.order_by(Ticket.created_at, Ticket.id), page)


async def ticket_for(session: AsyncSession, ticket_id: int, *, by: Actor) -> TicketCard:
    """The card, for someone who may see the ticket."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket", key="ticket.error.not_found")
    require_see(ticket, by)
    return await card(session, ticket_id)


def _lines() -> sa.Select[tuple[int, str, str, str, datetime, str | None, int]]:
    a = Employee.__table__.alias("assignee")
    return sa.select(
        Ticket.id,
        Ticket.category,
        Ticket.subject,
        Ticket.status,
        Ticket.created_at,
        a.c.name,
        sa.func.count().over(),
    ).select_from(Ticket.__table__.outerjoin(a, a.c.id == Ticket.assignee_id))


async def _page(session: AsyncSession, stmt: sa.Select, page: int) -> tuple[list[TicketLine], int]:
    page = max(page, 0)
    rows = (await session.execute(stmt.offset(page * PAGE_SIZE).limit(PAGE_SIZE))).all()
    lines = [TicketLine(r[0], r[1], r[2], TicketStatus(r[3]), r[4], r[5]) for r in rows]
    return lines, rows[0][6] if rows else 0


def _require_support(by: Actor) -> None:
    if by.role is not Role.SUPPORT:
        raise AccessDenied("only support sees the queue", key="ticket.error.not_support")
