"""The team at work in a client's topic: writing to the client (or a note), and Take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from services.conversations import Media

from models import Conversation, Employee, Lead, LeadStatus, Role, TeamInbox, TeamTopic
from services.actors import Actor
from services.context import Company
from services.errors import AccessDenied, Conflict, NotFound
from services.team import inboxes, topics, view


@dataclass(frozen=True)
class Answered:
    message_id: int
    note: bool
    kept_as_note: bool = False  # the office lets only the owner answer: kept, not sent
    owner: str | None = None  # ... and this is who the owner is


class TakenAlready(Conflict):
    code = "team_taken"

    def __init__(self, name: str) -> None:
        super().__init__("the client has an owner", key="team.already_taken", name=name)


class NoConversation(Conflict):
    """The client has never written on any channel: there is nowhere to answer them."""

    code = "team_no_conversation"

    def __init__(self) -> None:
        super().__init__("the client has no conversation", key="team.no_conversation")


async def answer(
    session: AsyncSession,
    *,
    chat_id: int,
    thread_id: int,
    by: Actor,
    text: str | None,
    media: Media | None,
    quoting: tuple[int, int] | None,
    telegram_message_id: int,
    note: bool = False,
    company: Company,
) -> Answered | None:
    """A message an employee typed in a client's topic: to the client on the channel they
    wrote on last (a note when it starts with "//"), or kept as a note when the office lets
    only the owner answer. None: the thread is no client's topic (the group's own talk)."""
    from services import conversations  # conversations tell topics of what they write

    topic = await topics.of_thread(session, chat_id, thread_id)
    if topic is None:
        return None
    inbox = await _inbox_for(session, topic, by)
    conversation_id = await _latest_conversation(session, topic.client_id)
    note = note or conversations.replies.is_note(text)
    if conversation_id is None:
        if not note:
            raise NoConversation()
        conversation_id = await _conversation_for_notes(session, topic.client_id, company)
    kept, owner = False, None
    if not note and not inbox.others_may_write:
        facts = await view.card_facts(session, topic)
        if not _may_answer(facts, by):
            note, kept, owner = True, True, facts.owner
    quoted = None
    if quoting is not None:
        found = await conversations.conversation_of(
            session, chat_id=quoting[0], telegram_message_id=quoting[1]
        )
        quoted = found[1] if found else None
    written = await conversations.write(
        session,
        conversation_id,
        by=by,
        text=text,
        media=media,
        quoting=quoted,
        staff_copy=(chat_id, telegram_message_id),
        note=note,
        team_topic=topic.id,
        company=company,
    )
    return Answered(written.message_id, written.note, kept, owner)


async def _inbox_for(session: AsyncSession, topic: TeamTopic, by: Actor) -> TeamInbox:
    """The topic's inbox, if it is still the client's (a group re-bound to one office, or a
    client gone to another office, leaves old topics read-only) and `by` belongs there."""
    if await topics.inbox_of(session, topic.client_id) != topic.chat_id:
        raise AccessDenied("the client's inbox is another group now", key="team.moved")
    inbox = await inboxes.of_chat(session, topic.chat_id)
    inboxes.require_member(inbox, by)
    return inbox


async def _latest_conversation(session: AsyncSession, client_id: int) -> int | None:
    """Where the client is answered: the conversation they wrote in last."""
    return await session.scalar(
        sa.select(Conversation.id)
        .where(Conversation.client_id == client_id, Conversation.last_inbound_at.is_not(None))
        .order_by(Conversation.last_inbound_at.desc(), Conversation.id.desc())
        .limit(1)
    )


async def _conversation_for_notes(session: AsyncSession, client_id: int, company: Company) -> int:
    """A client who never wrote (a call, a form) still has notes: on any conversation of
    theirs, else on none at all is an error (notes live in conversations)."""
    found = await session.scalar(
        sa.select(Conversation.id)
        .where(Conversation.client_id == client_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if found is None:
        raise NoConversation()
    return found


def _may_answer(facts: view.CardFacts, by: Actor) -> bool:
    """The client's owner, a manager or an admin (when others may not write)."""
    if by.role in (Role.MANAGER, Role.ADMIN):
        return True
    return facts.owner_id is None or facts.owner_id == by.id


async def claim(session: AsyncSession, topic_id: int, *, by: Actor, company: Company) -> str:
    """Take: the client becomes the presser's. Of simultaneous presses the first wins (a
    conditional update); the rest are told who has the client. Returns the owner's name."""
    topic = await session.get(TeamTopic, topic_id)
    if topic is None:
        raise NotFound("no such topic", key="team.no_topic")
    await _inbox_for(session, topic, by)
    owner = (await view.card_facts(session, topic)).owner
    if owner is not None:
        raise TakenAlready(owner)
    now = company.clock.now()
    t = TeamTopic.__table__
    won = await session.execute(
        sa.update(t)
        .where(t.c.id == topic_id, t.c.owner_id.is_(None))
        .values(owner_id=by.id, claimed_at=now, updated_at=now)
        .returning(t.c.id)
    )
    if won.first() is None:
        name = await session.scalar(
            sa.select(Employee.name)
            .join(TeamTopic, TeamTopic.owner_id == Employee.id)
            .where(TeamTopic.id == topic_id)
        )
        raise TakenAlready(name or "")
    await _follow(session, topic.client_id, by, company)
    await topics.topic_changed(session, topic_id, now=now)
    return by.name


async def _follow(session: AsyncSession, client_id: int, by: Actor, company: Company) -> None:
    """What Take gives along: the client's conversations nobody answers, the untaken leads
    nobody has (each handed over as the queue does: the card comes to their private chat),
    and the client, if they have no owner."""
    from services.assignment import Assignment, Reason  # (assignment needs clients, which
    from services.clients import set_owner_if_unowned  # tell topics of their changes)
    from services.leads import queue

    now = company.clock.now()
    c = Conversation.__table__
    await session.execute(
        sa.update(c)
        .where(c.c.client_id == client_id, c.c.assignee_id.is_(None))
        .values(assignee_id=by.id, updated_at=now)
    )
    me = await session.get(Employee, by.id)
    leads = (
        await session.execute(
            sa.select(Lead.id).where(
                Lead.client_id == client_id,
                Lead.status == LeadStatus.NEW,
                Lead.assignee_id.is_(None),
            )
        )
    ).scalars()
    for lead_id in list(leads):
        assignment = Assignment(
            by.id,
            by.office_id,
            Reason.MANUAL,
            telegram_id=me.telegram_id if me else None,
            locale=by.locale,
        )
        await queue.give(session, lead_id, assignment, company=company, previous=None, by_id=by.id)
    await set_owner_if_unowned(session, client_id, by.id, now=now)
