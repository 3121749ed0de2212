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
    __table_args__ = (
        sa.UniqueConstraint("channel", "external_chat_id"),
        # an employee's handed-over conversations (services.clients.visibility)
        sa.Index("ix_conversations_assignee_id", "assignee_id"),
    )

    client_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    channel: Mapped[Channel]
    external_chat_id: Mapped[str] = mapped_column(sa.String(100))
    # Who answers it: set by a handover; otherwise the assignee of `lead_id` (the lead the
    # client's first message opened) answers, so a lead taken or handed out takes it along.
    assignee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    lead_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("leads.id"))
    display_name: Mapped[str | None] = mapped_column(sa.String(300))  # the profile name
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
        sa.Index(
            "ix_messages_broadcast_id",
            "broadcast_id",
            "status",
            postgresql_where=sa.text("broadcast_id IS NOT NULL"),
            sqlite_where=sa.text("broadcast_id IS NOT NULL"),
        ),
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
    # The message this one quotes (a client's quote, or the client message an employee answered).
    reply_to_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("messages.id", ondelete="SET NULL")
    )
    # The broadcast this message was one of (services.broadcasts): its progress is counted
    # from these messages' statuses, and a failure tells no one in Telegram.
    broadcast_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("broadcasts.id"))


class MessageCopy(Base):
    """Where a message is shown in staff Telegram: a relayed client message, or the employee's
    own message that became a reply. A Telegram reply to a copy answers that conversation."""

    __tablename__ = "message_copies"

    chat_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    telegram_message_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )


class EarlyStatus(IdMixin, Base):
    """A delivery status that came before the send that produced its message id was recorded
    (the provider may answer the webhook before our send returns); applied when it is."""

    __tablename__ = "early_statuses"
    __table_args__ = (sa.UniqueConstraint("channel", "provider_message_id", "status"),)

    channel: Mapped[Channel]
    provider_message_id: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[MessageStatus]
    at: Mapped[datetime]
    error_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(500))
