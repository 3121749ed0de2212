"""Tickets: an employee asks the support department; replies form a thread."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import TicketStatus


class Ticket(IdMixin, TimestampMixin, Base):
    """Open (waiting for support), answered (waiting for the author), closed. One support
    employee takes it (`assignee_id`); its thread is the replies, the author's first."""

    __tablename__ = "tickets"
    __table_args__ = (
        sa.Index("ix_tickets_status_category", "status", "category", "created_at"),
        sa.Index("ix_tickets_client_id", "client_id"),  # a client deleted: its foreign key check
    )

    author_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("employees.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    category: Mapped[str] = mapped_column(sa.String(100))
    subject: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[TicketStatus] = mapped_column(default=TicketStatus.OPEN, index=True)
    client_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("clients.id"))
    deal_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("deals.id"))
    lead_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("leads.id"))
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    last_reply_at: Mapped[datetime | None]

    replies: Mapped[list[TicketReply]] = relationship(
        back_populates="ticket", order_by="TicketReply.id", cascade="all, delete-orphan"
    )


class TicketReply(IdMixin, TimestampMixin, Base):
    __tablename__ = "ticket_replies"

    ticket_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    text: Mapped[str] = mapped_column(sa.Text)  # the caption of a photo or file ("" if none)
    media_kind: Mapped[str | None] = mapped_column(sa.String(16))  # "photo", "document"
    file_id: Mapped[str | None] = mapped_column(sa.String(255))  # Telegram's, shown again from it
    file_name: Mapped[str | None] = mapped_column(sa.String(255))

    ticket: Mapped[Ticket] = relationship(back_populates="replies")
