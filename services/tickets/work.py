"""Support tickets: any employee raises one (a category, text, photos and files, optionally a
client or deal attached); support employees are told; one of them takes it (of simultaneous
presses one wins); replies go both ways, each to the other side; the author or support closes
it. Statuses: open (waiting for support), answered (waiting for the author), closed.

Access: the author, any support employee and admins see a ticket; only support takes and
answers (the one who took it; an answer to an untaken ticket takes it), the author answers back;
anyone else is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Channel,
    Deal,
    Employee,
    Lead,
    OutboxMessage,
    Role,
    Ticket,
    TicketReply,
    TicketStatus,
)
from services import audit, notify, outbox
from services.actors import Actor
from services.clients import visibility
from services.context import Company
from services.errors import AccessDenied, Conflict, InvalidInput, NotFound

TEXT_MAX = 4000
SUBJECT_MAX = 120
MEDIA_MAX = 10  # attachments in one ticket as it is raised


@dataclass(frozen=True)
class Media:
    """A photo or file as Telegram keeps it: shown again from its `file_id`."""

    kind: str  # "photo" or "document"
    file_id: str
    caption: str = ""
    file_name: str | None = None


async def raise_ticket(
    session: AsyncSession,
    *,
    by: Actor,
    category: str,
    text: str,
    media: list[Media],
    company: Company,
    client_id: int | None = None,
    deal_id: int | None = None,
    lead_id: int | None = None,
) -> Ticket:
    """A new ticket: its text is the first reply, each photo or file one more. Raised from a
    client's, deal's or lead's card, it is about that record (and its client)."""
    if category not in company.ticket_categories:
        raise InvalidInput("no such category", key="ticket.error.category")
    body = text.strip()
    if not body and not media:
        raise InvalidInput("an empty ticket", key="ticket.error.empty")
    if len(body) > TEXT_MAX:
        raise InvalidInput("too long", key="ticket.error.too_long", limit=TEXT_MAX)
    if len(media) > MEDIA_MAX:
        raise InvalidInput("too many files", key="ticket.error.too_many", limit=MEDIA_MAX)
    for model, record_id in ((Deal, deal_id), (Lead, lead_id)):
        if record_id is not None:
            client_id = await session.scalar(
                sa.select(model.client_id).where(model.id == record_id)
            )
            if client_id is None:
                raise NotFound("no such record", key="ticket.error.no_record")
    if client_id is not None:
        await visibility.require(session, client_id, by)
    now = company.clock.now()
    first = body or next((m.caption for m in media if m.caption.strip()), "")
    subject = (first.strip().splitlines() or ["—"])[0][:SUBJECT_MAX]
    ticket = Ticket(
        author_id=by.id,
        category=category,
        subject=subject,
        status=TicketStatus.OPEN,
        client_id=client_id,
        deal_id=deal_id,
        lead_id=lead_id,
        last_reply_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    await session.flush()
    replies = ([TicketReply(text=body)] if body else []) + [
        TicketReply(
            text=m.caption.strip(), media_kind=m.kind, file_id=m.file_id, file_name=m.file_name
        )
        for m in media
    ]
    for reply in replies:
        reply.ticket_id, reply.author_id = ticket.id, by.id
        reply.created_at = reply.updated_at = now
    session.add_all(replies)
    await session.flush()
    await _audit(session, "ticket.raise", ticket, by, now, category=category)
    people = await notify.with_role(session, Role.SUPPORT)
    cards = [
        outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=p.telegram_id,
            kind=notify.TICKET_CARD,
            payload={"ticket_id": ticket.id},
            locale=p.locale or company.locale,
            entity=("ticket", ticket.id),
            dedupe_key=f"{notify.TICKET_CARD}:{ticket.id}:{p.id}",
        )
        for p in people
        if p.id != by.id
    ]
    await outbox.enqueue_many(session, cards, now=now)
    return ticket


async def take(session: AsyncSession, ticket_id: int, *, by: Actor, company: Company) -> Ticket:
    """A support employee takes the ticket; of two at once, one wins and the other is told."""
    ticket = await _locked(session, ticket_id)
    _require_support(by)
    if ticket.status is TicketStatus.CLOSED:
        raise Conflict("the ticket is closed", key="ticket.error.closed")
    if ticket.assignee_id == by.id:
        return ticket
    if ticket.assignee_id is not None:
        name = await _name(session, ticket.assignee_id)
        raise Conflict("already taken", key="ticket.error.taken", name=name)
    now = company.clock.now()
    ticket.assignee_id, ticket.taken_at, ticket.updated_at = by.id, now, now
    await _audit(session, "ticket.take", ticket, by, now)
    await session.flush()
    await notify.ticket_changed(session, ticket_id=ticket.id, now=now)
    return ticket


async def reply(
    session: AsyncSession,
    ticket_id: int,
    *,
    by: Actor,
    text: str,
    media: Media | None = None,
    company: Company,
) -> TicketReply:
    """One reply (text, or a photo or file with its caption) to the other side: support's to
    the author, the author's to whoever took it (every support employee while nobody has)."""
    ticket = await _locked(session, ticket_id)
    body = text.strip()
    if not body and media is None:
        raise InvalidInput("an empty reply", key="ticket.error.empty")
    if len(body) > TEXT_MAX:
        raise InvalidInput("too long", key="ticket.error.too_long", limit=TEXT_MAX)
    if ticket.status is TicketStatus.CLOSED:
        raise Conflict("the ticket is closed", key="ticket.error.closed")
    now = company.clock.now()
    from_author = by.id == ticket.author_id
    if not from_author:
        _require_support(by)
        if ticket.assignee_id is None:  # answering takes it
            ticket.assignee_id, ticket.taken_at = by.id, now
        elif ticket.assignee_id != by.id:
            name = await _name(session, ticket.assignee_id)
            raise Conflict("already taken", key="ticket.error.taken", name=name)
    answer = TicketReply(
        ticket_id=ticket.id,
        author_id=by.id,
        text=body,
        media_kind=media.kind if media else None,
        file_id=media.file_id if media else None,
        file_name=media.file_name if media else None,
        created_at=now,
        updated_at=now,
    )
    session.add(answer)
    ticket.status = TicketStatus.OPEN if from_author else TicketStatus.ANSWERED
    ticket.last_reply_at = ticket.updated_at = now
    await session.flush()
    await _audit(session, "ticket.reply", ticket, by, now, reply_id=answer.id)
    if from_author:
        people = (
            [await notify.recipient(session, ticket.assignee_id)]
            if ticket.assignee_id is not None
            else await notify.with_role(session, Role.SUPPORT)
        )
    else:
        people = [await notify.recipient(session, ticket.author_id)]
    await _relay(session, ticket.id, answer.id, people, company, now)
    await notify.ticket_changed(session, ticket_id=ticket.id, now=now)
    return answer


async def close(session: AsyncSession, ticket_id: int, *, by: Actor, company: Company) -> Ticket:
    """The author or support closes the ticket; the other side is told."""
    ticket = await _locked(session, ticket_id)
    if by.id != ticket.author_id:
        _require_support(by)
    if ticket.status is TicketStatus.CLOSED:
        return ticket
    now = company.clock.now()
    ticket.status, ticket.closed_at, ticket.closed_by_id = TicketStatus.CLOSED, now, by.id
    ticket.updated_at = now
    await _audit(session, "ticket.close", ticket, by, now)
    await session.flush()
    other = ticket.assignee_id if by.id == ticket.author_id else ticket.author_id
    other_side = await notify.recipient(session, other)
    people = [other_side] if other_side is not None else []
    await outbox.enqueue_many(
        session,
        [
            outbox.Outgoing(
                channel=Channel.TELEGRAM,
                recipient=p.telegram_id,
                kind=notify.TICKET_CLOSED,
                payload={"ticket_id": ticket.id, "by": by.name},
                locale=p.locale or company.locale,
                entity=("ticket", ticket.id),
            )
            for p in people
            if p.telegram_id is not None
        ],
        now=now,
    )
    await notify.ticket_changed(session, ticket_id=ticket.id, now=now)
    return ticket


async def show_thread(session: AsyncSession, ticket_id: int, *, by: Actor, company: Company) -> int:
    """The whole thread to `by`'s chat, one message per reply in order; returns how many."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket", key="ticket.error.not_found")
    require_see(ticket, by)
    ids = (
        (
            await session.execute(
                sa.select(TicketReply.id)
                .where(TicketReply.ticket_id == ticket.id)
                .order_by(TicketReply.id)
            )
        )
        .scalars()
        .all()
    )
    person = await notify.recipient(session, by.id)
    await _relay(session, ticket.id, list(ids), [person], company, company.clock.now(), thread=True)
    return len(ids)


async def ticket_of_message(session: AsyncSession, *, chat_id: int, message_id: int) -> int | None:
    """The ticket a message in a chat belongs to (a card or a reply the bot sent there)."""
    o = OutboxMessage.__table__
    stmt = sa.select(o.c.entity_id).where(
        o.c.entity_type == "ticket",
        o.c.recipient == str(chat_id),
        o.c.provider_message_id == str(message_id),
    )
    return await session.scalar(stmt.limit(1))


async def require_answer(session: AsyncSession, ticket_id: int, *, by: Actor) -> None:
    """The check `reply` makes, before someone starts typing: the author, or support while the
    ticket is nobody's or theirs; an open ticket."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket", key="ticket.error.not_found", ticket_id=ticket_id)
    if ticket.status is TicketStatus.CLOSED:
        raise Conflict("the ticket is closed", key="ticket.error.closed")
    if by.id == ticket.author_id:
        return
    _require_support(by)
    if ticket.assignee_id not in (None, by.id):
        name = await _name(session, ticket.assignee_id)
        raise Conflict("already taken", key="ticket.error.taken", name=name)


def can_see(ticket: Ticket, by: Actor) -> bool:
    return by.id == ticket.author_id or by.role in (Role.SUPPORT, Role.ADMIN)


def require_see(ticket: Ticket, by: Actor) -> None:
    if not can_see(ticket, by):
        raise AccessDenied("not your ticket", key="ticket.error.no_access")


# --- inside


def _require_support(by: Actor) -> None:
    if by.role is not Role.SUPPORT:
        raise AccessDenied("only support answers tickets", key="ticket.error.not_support")


async def _locked(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if ticket is None:
        raise NotFound("no such ticket", key="ticket.error.not_found", ticket_id=ticket_id)
    return ticket


async def _name(session: AsyncSession, employee_id: int) -> str:
    return await session.scalar(sa.select(Employee.name).where(Employee.id == employee_id)) or "—"


async def _relay(
    session: AsyncSession,
    ticket_id: int,
    reply_ids: int | list[int],
    people: list[notify.Person | None],
    company: Company,
    now: datetime,
    *,
    thread: bool = False,
) -> None:
    """Each reply as a message of its own to each person (in order: one chat's messages keep
    their order in the outbox)."""
    ids = [reply_ids] if isinstance(reply_ids, int) else reply_ids
    await outbox.enqueue_many(
        session,
        [
            outbox.Outgoing(
                channel=Channel.TELEGRAM,
                recipient=p.telegram_id,
                kind=notify.TICKET_REPLY,
                payload={"ticket_id": ticket_id, "reply_id": reply_id, "thread": thread},
                locale=p.locale or company.locale,
                entity=("ticket", ticket_id),
            )
            for p in people
            if p is not None and p.telegram_id is not None
            for reply_id in ids
        ],
        now=now,
    )


async def _audit(
    session: AsyncSession, action: str, ticket: Ticket, by: Actor, now: datetime, **data: object
) -> None:
    await audit.log(
        session,
        action=action,
        entity_type="ticket",
        entity_id=ticket.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        **data,
    )
