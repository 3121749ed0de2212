"""Broadcasts (services/broadcasts): one message to every client of a segment, on one channel.

The audience is frozen when the broadcast starts: a row per (broadcast, client) says what
became of that client (to be sent, opted out, no address on the channel, outside WhatsApp's
24-hour window with no template to send), and each client to be sent gets one message in
their conversation (`messages.broadcast_id`), delivered through the outbox's bulk lane.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin
from models.enums import Channel


class Broadcast(IdMixin, Base):
    __tablename__ = "broadcasts"

    at: Mapped[datetime] = mapped_column(index=True)  # started (the audience frozen)
    actor_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    # A manager's broadcast reaches their office's clients only.
    office_id: Mapped[int | None] = mapped_column(BigId)
    channel: Mapped[Channel]
    text: Mapped[str] = mapped_column(sa.Text)
    # What goes to a WhatsApp client outside the 24-hour window (an approved template).
    template: Mapped[str | None] = mapped_column(sa.String(200))
    language: Mapped[str | None] = mapped_column(sa.String(16))
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)  # as chosen, for the page
    # The form's one-time key: a second press of Send (or a resent form) finds this broadcast
    # instead of starting another.
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the audience by outcome


class BroadcastRecipient(Base):
    __tablename__ = "broadcast_recipients"

    broadcast_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "send", "opted_out", "no_address", "needs_template"
    outcome: Mapped[str] = mapped_column(sa.String(16))
    chat_id: Mapped[str | None] = mapped_column(sa.String(100))
    conversation_id: Mapped[int | None] = mapped_column(BigId)
