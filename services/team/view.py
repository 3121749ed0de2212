"""What a step reads about a client's topic: the topic, the card's facts, and the client's
messages not shown there yet (services.team.topics explains the steps)."""

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
    PipelineStage,
    TeamInbox,
    TeamShown,
    TeamTopic,
)

PART_SIZE = 20  # at most this many messages are read for one step
# Messages a little older than the topic are still news: their transaction may have committed
# after the one that opened the topic.
SINCE_MARGIN = timedelta(minutes=1)


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
