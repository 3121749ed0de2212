"""The durable outbox: every outgoing message is a row written in the business transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, utcnow
from models.enums import Channel, OutboxLane, OutboxStatus

_TICKETS = sa.text("entity_type = 'ticket'")
# Unsettled bulk rows (services.outbox.claiming repeats this text, so the planner sees that
# its look may use the index).
BULK_UNSETTLED = "lane = 'bulk' AND status IN ('pending', 'failed', 'sending')"
_BULK_DUE = sa.text(BULK_UNSETTLED)


class OutboxMessage(IdMixin, TimestampMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_recipient", "channel", "recipient", "id"),
        sa.Index("ix_outbox_entity", "entity_type", "entity_id"),
        sa.Index("ix_outbox_coalesced_into", "coalesced_into_id"),
        # a broadcast's unsent rows, oldest first (services.outbox.claiming)
        sa.Index(
            "ix_outbox_bulk_due",
            "id",
            postgresql_where=_BULK_DUE,
            sqlite_where=_BULK_DUE,
        ),
        # a reply in Telegram to a ticket's message finds the ticket (services.tickets)
        sa.Index(
            "ix_outbox_ticket_messages",
            "recipient",
            "provider_message_id",
            postgresql_where=_TICKETS,
            sqlite_where=_TICKETS,
        ),
    )

    channel: Mapped[Channel]
    recipient: Mapped[str] = mapped_column(sa.String(100))  # chat id, wa_id
    thread_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # forum topic
    lane: Mapped[OutboxLane] = mapped_column(default=OutboxLane.INTERACTIVE)
    kind: Mapped[str] = mapped_column(sa.String(50))  # lead_card, task_reminder, ...
    locale: Mapped[str] = mapped_column(sa.String(8), default="ru")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    entity_type: Mapped[str | None] = mapped_column(sa.String(32))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    # Edit the message that row delivered instead of sending a new one.
    edit_of_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("outbox.id"))
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    # Rows of one group (e.g. "new_leads") waiting for one chat may go out as one digest
    # message instead of one message each; they need no order among themselves.
    coalesce_group: Mapped[str | None] = mapped_column(sa.String(50))
    # While a digest is being sent: the row that carries it (its newest member).
    coalesced_into_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("outbox.id", ondelete="SET NULL")
    )

    status: Mapped[OutboxStatus] = mapped_column(default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(200))
    sent_at: Mapped[datetime | None]
