"""Messages as the senders show them (read when an outbox row is delivered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import Client, Conversation, Direction, Employee, Message, MessageCopy, MessageStatus
from models.prepared import Prepared
from services.conversations.inputs import Media
from services.errors import NotFound


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    client_id: int
    channel: str
    chat_id: str  # the client's address on the channel
    direction: Direction
    kind: str
    text: str | None
    details: dict[str, Any]  # the media's or location's fields as stored
    status: MessageStatus
    error: str | None
    client_name: str | None
    author: str | None  # the employee who wrote it
    quoted_id: int | None  # the message it quotes
    quoted_provider_id: str | None  # ... and that message's id at the provider
    last_inbound_at: datetime | None
    created_at: datetime

    @property
    def media(self) -> Media | None:
        return Media.of(self.details)


_QUOTED = aliased(Message)
# Read for every message an outbox row delivers: built and compiled once.
_MESSAGE = Prepared(
    sa.select(
        Message.id,
        Message.conversation_id,
        Conversation.client_id,
        Conversation.channel,
        Conversation.external_chat_id,
        Message.direction,
        Message.kind,
        Message.text,
        Message.media,
        Message.status,
        Message.error,
        sa.func.coalesce(Client.name, Conversation.display_name).label("client_name"),
        Employee.name.label("author"),
        Message.reply_to_id,
        _QUOTED.provider_message_id.label("quoted_provider_id"),
        Conversation.last_inbound_at,
        Message.created_at,
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .join(Client, Client.id == Conversation.client_id)
    .outerjoin(Employee, Employee.id == Message.author_employee_id)
    .outerjoin(_QUOTED, _QUOTED.id == Message.reply_to_id)
    .where(Message.id == sa.bindparam("message_id"))
)


async def message(session: AsyncSession, message_id: int) -> MessageView:
    row = await _MESSAGE.first(session, {"message_id": message_id})
    if row is None:
        raise NotFound("no such message", key="conversation.error.not_found")
    return MessageView(
        row.id,
        row.conversation_id,
        row.client_id,
        str(row.channel),
        row.external_chat_id,
        row.direction,
        row.kind,
        row.text,
        row.media or {},
        row.status,
        row.error,
        row.client_name,
        row.author,
        row.reply_to_id,
        row.quoted_provider_id,
        row.last_inbound_at,
        row.created_at,
    )


async def copy_in(session: AsyncSession, message_id: int | None, chat_id: int) -> int | None:
    """The Telegram message in `chat_id` that shows `message_id`, if one does."""
    if message_id is None:
        return None
    stmt = sa.select(sa.func.max(MessageCopy.telegram_message_id)).where(
        MessageCopy.message_id == message_id, MessageCopy.chat_id == chat_id
    )
    return await session.scalar(stmt)


@dataclass(frozen=True)
class About:
    id: int
    client_id: int
    channel: str
    name: str | None


async def about(session: AsyncSession, conversation_id: int) -> About:
    stmt = (
        sa.select(
            Conversation.id,
            Conversation.client_id,
            Conversation.channel,
            sa.func.coalesce(Client.name, Conversation.display_name),
        )
        .join(Client, Client.id == Conversation.client_id)
        .where(Conversation.id == conversation_id)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("no such conversation", key="conversation.error.not_found")
    return About(row[0], row[1], str(row[2]), row[3])


async def other_client_since(
    session: AsyncSession, *, chat_id: int, after: int, conversation_id: int
) -> str | None:
    """The name of a client of another conversation whose message was shown in this staff
    chat after its message `after` (None: nobody else wrote meanwhile)."""
    stmt = (
        sa.select(sa.func.coalesce(Client.name, Conversation.display_name, ""))
        .select_from(MessageCopy)
        .join(Message, Message.id == MessageCopy.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Client, Client.id == Conversation.client_id)
        .where(
            MessageCopy.chat_id == chat_id,
            MessageCopy.telegram_message_id > after,
            Message.direction == Direction.IN,
            Message.conversation_id != conversation_id,
        )
        .order_by(MessageCopy.telegram_message_id.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


async def latest_shown(session: AsyncSession, chat_id: int) -> int:
    """The newest Telegram message of this staff chat that shows a client's message (0: none)."""
    stmt = sa.select(sa.func.max(MessageCopy.telegram_message_id)).where(
        MessageCopy.chat_id == chat_id
    )
    return int(await session.scalar(stmt) or 0)
