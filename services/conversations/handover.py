"""Handing a conversation over: a manager gives it to another employee of the office, who
gets the whole history at once; from then on the client's messages go to them.

Whoever becomes a conversation's answerer otherwise (its lead handed out from the queue,
taken or reassigned) gets the same history message (`history_to`), so messages that came
while the conversation waited are never unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Client, Conversation, Direction, Employee, Lead, Message
from services import access, audit, notify, outbox
from services.actors import Actor
from services.context import Company
from services.errors import AccessDenied, NotFound
from services.team import topics as team_topics

HISTORY = "conversation_history"  # the conversation so far, for its new answerer
CANDIDATES_PAGE = 8


async def _office(session: AsyncSession, conv: Conversation) -> int | None:
    stmt = (
        sa.select(sa.func.coalesce(Lead.office_id, Client.office_id))
        .select_from(Conversation)
        .outerjoin(Lead, Lead.id == Conversation.lead_id)
        .join(Client, Client.id == Conversation.client_id)
        .where(Conversation.id == conv.id)
    )
    return await session.scalar(stmt)


async def _conversation(session: AsyncSession, conversation_id: int, by: Actor) -> Conversation:
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound("no such conversation", key="conversation.error.not_found")
    if not access.can_reassign_lead(by, office_id=await _office(session, conv)):
        raise AccessDenied("only a manager hands over", key="conversation.error.no_handover")
    return conv


async def candidates(
    session: AsyncSession, conversation_id: int, *, by: Actor, page: int = 0
) -> tuple[list[tuple[int, str]], bool]:
    """Whom `by` may hand the conversation to (active, with Telegram, of its office), by name,
    a page at a time; and whether there are more."""
    conv = await _conversation(session, conversation_id, by)
    office_id = await _office(session, conv)
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.name, e.c.office_id).where(
        e.c.is_active, e.c.telegram_id.is_not(None)
    )
    if office_id is not None:
        stmt = stmt.where(e.c.office_id == office_id)
    rows = (await session.execute(stmt.order_by(e.c.name, e.c.id).limit(500))).all()
    people = [
        (r.id, r.name)
        for r in rows
        if access.can_assign_lead(by, office_id=office_id, to_office_id=r.office_id)
    ]
    page = max(page, 0)
    size = CANDIDATES_PAGE
    return people[page * size : (page + 1) * size], len(people) > (page + 1) * size


async def hand_over(
    session: AsyncSession, conversation_id: int, *, to_id: int, by: Actor, company: Company
) -> str:
    """Give the conversation to `to_id`; returns their name."""
    conv = await _conversation(session, conversation_id, by)
    office_id = await _office(session, conv)
    to = await session.get(Employee, to_id)
    if to is None or not to.is_active or to.telegram_id is None:
        raise NotFound("no such employee", key="conversation.error.no_employee")
    access.require_assign(by, office_id=office_id, to_office_id=to.office_id)
    now = company.clock.now()
    before, conv.assignee_id = conv.assignee_id, to.id
    await audit.log(
        session,
        action="conversation.hand_over",
        entity_type="conversation",
        entity_id=conv.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        before=before,
        to=to.id,
    )
    await team_topics.clients_changed(session, [conv.client_id], now=now)
    await history_to(
        session,
        conv.id,
        notify.Person(to.id, to.telegram_id, to.locale),
        now=now,
        locale=company.locale,
    )
    return to.name


async def history_to(
    session: AsyncSession,
    conversation_id: int,
    person: notify.Person | None,
    *,
    now: datetime,
    locale: str,
) -> None:
    """The conversation so far, as one message to its new answerer."""
    history = notify.to_person(
        HISTORY,
        "conversation",
        conversation_id,
        person,
        locale,
        once=False,
        conversation_id=conversation_id,
    )
    if history is not None:
        await outbox.enqueue_many(session, [history], now=now)


async def lead_changed_hands(
    session: AsyncSession, lead_ids: list[int], *, now: datetime, locale: str
) -> None:
    """Leads given to someone (from the queue, reassigned): the conversations they opened go
    with them, and each new answerer is shown what the client wrote so far (beyond the first
    message, which their lead card shows)."""
    if not lead_ids:
        return
    more = (
        sa.select(sa.func.count(Message.id))
        .where(Message.conversation_id == Conversation.id, Message.direction != Direction.INTERNAL)
        .scalar_subquery()
    )
    stmt = (
        sa.select(Conversation.id, Employee.id, Employee.telegram_id, Employee.locale)
        .join(Lead, Lead.id == Conversation.lead_id)
        .join(Employee, Employee.id == Lead.assignee_id)
        .where(
            Conversation.lead_id.in_(sorted(set(lead_ids))),
            Conversation.assignee_id.is_(None),
            Employee.is_active,
            more > 1,
        )
    )
    for conv_id, employee_id, telegram_id, person_locale in (await session.execute(stmt)).all():
        person = notify.Person(employee_id, telegram_id, person_locale)
        await history_to(session, conv_id, person, now=now, locale=locale)


@dataclass(frozen=True)
class Said:
    """One message of a conversation's history."""

    at: datetime
    direction: str  # in, out, internal
    who: str | None  # the employee who wrote it
    kind: str
    text: str | None
    filename: str | None


async def history(session: AsyncSession, conversation_id: int, limit: int = 50) -> list[Said]:
    """The conversation's newest `limit` messages, oldest first."""
    stmt = (
        sa.select(
            Message.created_at,
            Message.direction,
            Employee.name,
            Message.kind,
            Message.text,
            Message.media,
        )
        .outerjoin(Employee, Employee.id == Message.author_employee_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [
        Said(r[0], str(r[1].value), r[2], r[3], r[4], (r[5] or {}).get("filename"))
        for r in reversed(rows)
    ]
