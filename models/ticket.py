"""Tickets: an employee asks the support department; replies form a thread."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import TicketStatus


class Ticket(IdMixin, TimestampMixin, Base):
    __tablename__ = "tickets"

    author_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("employees.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    category: Mapped[str] = mapped_column(sa.String(100))
    subject: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[TicketStatus] = mapped_column(default=TicketStatus.OPEN, index=True)
    client_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("clients.id"))

    replies: Mapped[list[TicketReply]] = relationship(
        back_populates="ticket", order_by="TicketReply.id", cascade="all, delete-orphan"
    )


class TicketReply(IdMixin, TimestampMixin, Base):
    __tablename__ = "ticket_replies"

    ticket_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    text: Mapped[str] = mapped_column(sa.Text)

    ticket: Mapped[Ticket] = relationship(back_populates="replies")
