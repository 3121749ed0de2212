"""A client's forum topic in the team inbox, kept in step with the client's history.

Whatever a topic shows changes through one kind of outbox row, a *step* (`TEAM_SYNC`), addressed
to "<group>/<topic>" (services.outbox.chat_of): the steps of one topic go one at a time and in
order, other topics' steps do not wait for them, and all share the group's rate limits. A step
does the first thing the topic needs (bot.telegram.team_steps):

1. no thread (new, or found deleted): create the topic, post the card, pin it;
2. no card (someone deleted it): post and pin a fresh one;
3. messages of the client not shown yet: post the next part (short client texts that waited
   together go as one message; anything else one at a time);
4. the card or the topic's name is out of date: edit them in place;
5. nothing: the row is settled without a call.

What a step did comes back as facts (`settled`), recorded with the row's result; if there is
more to do, the next step is queued. An event (a message, a lead or owner change) queues a step
only when none is waiting already: a burst of messages costs a few steps, not one each, and
what waited is shown together. Topics are never written to from a transaction directly, so a
deleted topic, a closed one, a lost connection or a killed process loses nothing: the rows
and messages are in the database, and the next step takes up where the last one ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Channel,
    ChannelIdentity,
    Client,
    Conversation,
    Deal,
    DealStatus,
    Direction,
    Employee,
    Lead,
    LeadStatus,
    Message,
    MessageCopy,
    OutboxMessage,
    OutboxStatus,
    PipelineStage,
    TeamInbox,
    TeamShown,
    TeamTopic,
)
from models.db import insert_ignoring_conflicts
from services import outbox
from services.team.inboxes import pick, scopes

TEAM_SYNC = "team_sync"
PART_SIZE = 20  # at most this many messages are read for one step
# Messages a little older than the topic are still news: their transaction may have committed
# after the one that opened the topic.
SINCE_MARGIN = timedelta(minutes=1)


def recipient(chat_id: int, topic_id: int) -> str:
    return f"{chat_id}/{topic_id}"


async def clients_changed(session: AsyncSession, client_ids: list[int], *, now: datetime) -> int:
    """Something the clients' topics show changed (a message, a lead, an owner, a deal):
    queue a step for each (opening a topic for a client who has none in their inbox yet).
    Returns the steps queued. Nothing at all when no inbox is bound."""
    inboxes = await scopes(session)
    if not inboxes or not client_ids:
        return 0
    chats = {
        client_id: chat
        for client_id, office_id in (await _offices(session, sorted(set(client_ids)))).items()
        if (chat := pick(inboxes, office_id)) is not None
    }
    if not chats:
        return 0
    t = TeamTopic.__table__
    await session.execute(
        insert_ignoring_conflicts(session, t),
        [
            dict(chat_id=chat, client_id=client_id, created_at=now, updated_at=now)
            for client_id, chat in sorted(chats.items())
        ],
    )
    pairs = sorted((chat, client_id) for client_id, chat in chats.items())
    rows = await session.execute(
        sa.select(t.c.id, t.c.chat_id).where(sa.tuple_(t.c.chat_id, t.c.client_id).in_(pairs))
    )
    return await queue_steps(session, [(chat, topic) for topic, chat in rows.all()], now)


async def leads_changed(session: AsyncSession, lead_ids: list[int], *, now: datetime) -> int:
    """`clients_changed` for the leads' clients (one query when no inbox is bound)."""
    if not lead_ids or not await scopes(session):
        return 0
    found = await session.execute(
        sa.select(Lead.client_id).where(Lead.id.in_(sorted(set(lead_ids))))
    )
    return await clients_changed(session, list(found.scalars()), now=now)


async def conversations_changed(
    session: AsyncSession, conversation_ids: list[int], *, now: datetime
) -> int:
    """`clients_changed` for the conversations' clients (one query when no inbox is bound)."""
    if not conversation_ids or not await scopes(session):
        return 0
    found = await session.execute(
        sa.select(Conversation.client_id).where(Conversation.id.in_(sorted(set(conversation_ids))))
    )
    return await clients_changed(session, list(found.scalars()), now=now)


async def topic_changed(session: AsyncSession, topic_id: int, *, now: datetime) -> int:
    chat_id = await session.scalar(sa.select(TeamTopic.chat_id).where(TeamTopic.id == topic_id))
    return 0 if chat_id is None else await queue_steps(session, [(chat_id, topic_id)], now)


async def queue_steps(session: AsyncSession, topics: list[tuple[int, int]], now: datetime) -> int:
    """A step for each (chat, topic) that has none waiting (one being sent does not count:
    it may have read the topic before this change). Steps speak the inbox's language."""
    if not topics:
        return 0
    o = OutboxMessage.__table__
    wanted = {recipient(chat, topic): (chat, topic) for chat, topic in topics}
    look = sa.select(o.c.recipient).where(
        o.c.channel == Channel.TELEGRAM,
        o.c.recipient.in_(sorted(wanted)),
        o.c.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)),
        o.c.kind == TEAM_SYNC,
    )
    if session.get_bind().dialect.name == "postgresql":
        # A waiting step stays waiting until this transaction commits (the pump skips locked
        # rows), so it cannot be claimed and read the topic before this change is visible; one
        # claimed meanwhile is re-checked after the lock, found sending, and a new step queued.
        # (in one order, so two changes to the same topics never wait for each other in turn)
        look = look.order_by(o.c.recipient, o.c.id).with_for_update(of=o)
    waiting = set((await session.execute(look)).scalars())
    rows = [
        outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=address,
            kind=TEAM_SYNC,
            payload={"topic_id": topic},
            entity=("team_topic", topic),
        )
        for address, (_chat, topic) in sorted(wanted.items())
        if address not in waiting
    ]
    await outbox.enqueue_many(session, rows, now=now)
    return len(rows)


async def _offices(session: AsyncSession, client_ids: list[int]) -> dict[int, int | None]:
    """Each client's office: their newest lead's, else their own, else their owner's."""
    newest_lead_office = (
        sa.select(Lead.office_id)
        .where(Lead.client_id == Client.id)
        .order_by(Lead.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            Client.id, sa.func.coalesce(newest_lead_office, Client.office_id, Employee.office_id)
        )
        .outerjoin(Employee, Employee.id == Client.owner_id)
        .where(Client.id.in_(client_ids))
    )
    return {client_id: office for client_id, office in (await session.execute(stmt)).all()}


# --- what a step reads


@dataclass(frozen=True)
class Pending:
    """A message of the client not shown in the topic yet."""

    id: int
    conversation_id: int
    channel: str
    direction: Direction
    kind: str
    text: str | None
    details: dict[str, Any]
    author: str | None
    created_at: datetime
    quoted_id: int | None


@dataclass(frozen=True)
class CardFacts:
    """What the topic's card says about the client."""

    client_id: int
    name: str | None
    phone: str | None
    channels: tuple[str, ...]
    owner_id: int | None  # who answers the client (None: nobody yet; the card offers Take)
    owner: str | None
    lead_id: int | None
    lead_status: LeadStatus | None
    lead_source: str | None
    lead_comment: str | None
    lead_at: datetime | None
    open_deals: int
    open_sum: Decimal | None
    won_deals: int
    currency: str | None
    deal_title: str | None  # the newest open deal's
    deal_stage: str | None


@dataclass(frozen=True)
class TopicState:
    id: int
    chat_id: int
    client_id: int
    thread_id: int | None
    name: str | None
    card_message_id: int | None
    card_hash: str | None
    card: CardFacts
    pending: list[Pending]
    more: bool  # more messages wait than `pending` holds
    locale: str  # the inbox's language (of the admin who bound it)


async def state(session: AsyncSession, topic_id: int) -> TopicState | None:
    topic = await session.get(TeamTopic, topic_id, populate_existing=True)
    if topic is None:
        return None
    pending = await _pending(session, topic)
    locale = await session.scalar(
        sa.select(TeamInbox.locale).where(TeamInbox.chat_id == topic.chat_id)
    )
    return TopicState(
        topic.id,
        topic.chat_id,
        topic.client_id,
        topic.thread_id,
        topic.name,
        topic.card_message_id,
        topic.card_hash,
        await card_facts(session, topic),
        pending[:PART_SIZE],
        len(pending) > PART_SIZE,
        locale or "ru",
    )


async def _pending(session: AsyncSession, topic: TeamTopic) -> list[Pending]:
    shown = (
        sa.select(TeamShown.message_id)
        .where(TeamShown.topic_id == topic.id, TeamShown.message_id == Message.id)
        .exists()
    )
    stmt = (
        sa.select(
            Message.id,
            Message.conversation_id,
            Conversation.channel,
            Message.direction,
            Message.kind,
            Message.text,
            Message.media,
            Employee.name,
            Message.created_at,
            Message.reply_to_id,
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Employee, Employee.id == Message.author_employee_id)
        .where(
            Conversation.client_id == topic.client_id,
            Message.created_at >= topic.created_at - SINCE_MARGIN,
            ~shown,
        )
        .order_by(Message.id)
        .limit(PART_SIZE + 1)
    )
    return [
        Pending(r[0], r[1], str(r[2]), r[3], r[4], r[5], r[6] or {}, r[7], r[8], r[9])
        for r in (await session.execute(stmt)).all()
    ]


async def card_facts(session: AsyncSession, topic: TeamTopic) -> CardFacts:
    client = await session.get(Client, topic.client_id)
    assert client is not None  # the topic goes with its client (ON DELETE CASCADE)
    phone = await session.scalar(
        sa.select(ChannelIdentity.address)
        .where(ChannelIdentity.client_id == client.id, ChannelIdentity.channel == Channel.PHONE)
        .order_by(ChannelIdentity.id)
        .limit(1)
    )
    conversations = (
        await session.execute(
            sa.select(Conversation.channel, Conversation.display_name, _answerer())
            .select_from(Conversation)
            .outerjoin(Lead, Lead.id == Conversation.lead_id)
            .join(Client, Client.id == Conversation.client_id)
            .where(Conversation.client_id == client.id)
            .order_by(
                sa.func.coalesce(Conversation.last_inbound_at, Conversation.created_at).desc()
            )
        )
    ).all()
    lead = await session.scalar(
        sa.select(Lead).where(Lead.client_id == client.id).order_by(Lead.id.desc()).limit(1)
    )
    owner_id = next((c[2] for c in conversations[:1] if c[2] is not None), None)
    owner_id = owner_id or (lead.assignee_id if lead else None) or client.owner_id
    owner_id = owner_id or topic.owner_id
    # a deactivated owner has nobody's client any more: the card offers Take again
    owner = await session.scalar(
        sa.select(Employee.name).where(Employee.id == owner_id, Employee.is_active)
    )
    deals = (
        await session.execute(
            sa.select(
                sa.func.count().filter(Deal.status == DealStatus.OPEN),
                sa.func.sum(Deal.amount).filter(Deal.status == DealStatus.OPEN),
                sa.func.count().filter(Deal.status == DealStatus.WON),
                sa.func.max(Deal.currency),
            ).where(Deal.client_id == client.id)
        )
    ).one()
    newest = (
        await session.execute(
            sa.select(Deal.title, PipelineStage.name)
            .join(PipelineStage, PipelineStage.id == Deal.stage_id)
            .where(Deal.client_id == client.id, Deal.status == DealStatus.OPEN)
            .order_by(Deal.id.desc())
            .limit(1)
        )
    ).first()
    display = next((c[1] for c in conversations if c[1]), None)
    return CardFacts(
        client_id=client.id,
        name=client.name or display,
        phone=phone,
        channels=tuple(dict.fromkeys(str(c[0]) for c in conversations)),
        owner_id=owner_id if owner else None,
        owner=owner,
        lead_id=lead.id if lead else None,
        lead_status=lead.status if lead else None,
        lead_source=lead.source if lead else None,
        lead_comment=lead.comment if lead else None,
        lead_at=lead.created_at if lead else None,
        open_deals=int(deals[0] or 0),
        open_sum=deals[1],
        won_deals=int(deals[2] or 0),
        currency=deals[3],
        deal_title=newest[0] if newest else None,
        deal_stage=newest[1] if newest else None,
    )


def _answerer() -> sa.ColumnElement[int]:
    return sa.func.coalesce(Conversation.assignee_id, Lead.assignee_id, Client.owner_id)


# --- what a step did


async def settled(
    session: AsyncSession,
    row: outbox.Claimed,
    *,
    result: str,
    facts: dict[str, Any],
    now: datetime,
) -> None:
    """Record what a step did (in the transaction that records its result), and queue the
    next one while there is more to do."""
    if row.kind != TEAM_SYNC:
        return
    topic_id = int(row.payload["topic_id"])
    if result == "dead" and row.attempts > 1:
        # It failed for a while (events meanwhile queued nothing): the next step takes over.
        # (One refused at once, a bot removed from the group, waits for the next event.)
        await queue_steps(session, [(int(outbox.chat_of(row.recipient)), topic_id)], now)
        return
    if result != "sent" or not facts:
        return
    t = TeamTopic.__table__
    values = {
        k: facts[k] for k in ("thread_id", "name", "card_message_id", "card_hash") if k in facts
    }
    if facts.get("opened"):
        values["opened_at"] = now
    if values:
        await session.execute(
            sa.update(t).where(t.c.id == topic_id).values(updated_at=now, **values)
        )
    if shown := facts.get("shown"):
        await mark_shown(session, topic_id, [int(i) for i in shown])
    chat_id = int(outbox.chat_of(row.recipient))
    copies = [
        dict(chat_id=chat_id, telegram_message_id=int(tg_id), message_id=int(message_id))
        for message_id, tg_id in facts.get("copies") or []
    ]
    if copies:
        await session.execute(insert_ignoring_conflicts(session, MessageCopy.__table__), copies)
    if facts.get("more"):
        await queue_steps(session, [(chat_id, topic_id)], now)


async def mark_shown(session: AsyncSession, topic_id: int, message_ids: list[int]) -> None:
    if message_ids:
        await session.execute(
            insert_ignoring_conflicts(session, TeamShown.__table__),
            [dict(topic_id=topic_id, message_id=i) for i in sorted(set(message_ids))],
        )


async def copy_in_topic(session: AsyncSession, topic: TopicState, message_id: int) -> int | None:
    """The Telegram message of this topic that shows `message_id` (a quote is answered there;
    a copy elsewhere in the group, another client's topic after a merge, is not)."""
    stmt = (
        sa.select(sa.func.max(MessageCopy.telegram_message_id))
        .join(
            TeamShown,
            sa.and_(TeamShown.message_id == MessageCopy.message_id, TeamShown.topic_id == topic.id),
        )
        .where(MessageCopy.message_id == message_id, MessageCopy.chat_id == topic.chat_id)
    )
    return await session.scalar(stmt)


async def inbox_of(session: AsyncSession, client_id: int) -> int | None:
    """The chat of the client's team inbox now (None: none is bound for them)."""
    inboxes = await scopes(session)
    offices = await _offices(session, [client_id]) if inboxes else {}
    return pick(inboxes, offices.get(client_id)) if inboxes else None


async def of_thread(session: AsyncSession, chat_id: int, thread_id: int) -> TeamTopic | None:
    """The client topic a message typed in the group's thread belongs to."""
    return await session.scalar(
        sa.select(TeamTopic).where(TeamTopic.chat_id == chat_id, TeamTopic.thread_id == thread_id)
    )
