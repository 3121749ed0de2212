"""Conversations with clients on any channel, and their messages.

A conversation is not assumed to be 1:1: `external_chat_id` may be a group chat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import Channel, Direction, MessageStatus


class Conversation(IdMixin, TimestampMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (sa.UniqueConstraint("channel", "external_chat_id"),)

    client_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    channel: Mapped[Channel]
    external_chat_id: Mapped[str] = mapped_column(sa.String(100))
    assignee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    is_open: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    last_inbound_at: Mapped[datetime | None]  # WhatsApp's 24-hour window starts here
    last_message_at: Mapped[datetime | None]
    opted_out_at: Mapped[datetime | None]
    # Team inbox: the forum topic mirroring this conversation in the staff supergroup.
    staff_chat_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    staff_thread_id: Mapped[int | None] = mapped_column(sa.BigInteger)


class Message(IdMixin, TimestampMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("channel", "provider_message_id"),
        sa.Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )

    conversation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel]
    direction: Mapped[Direction]
    author_employee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="text")  # text, photo, document, ...
    text: Mapped[str | None] = mapped_column(sa.Text)
    media: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[MessageStatus] = mapped_column(default=MessageStatus.RECEIVED)
    status_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(sa.String(500))
