"""Free-text notes on a client, deal, lead or task (internal: never sent to a client)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin


class Note(IdMixin, TimestampMixin, Base):
    __tablename__ = "notes"
    __table_args__ = (sa.Index("ix_notes_client_created", "client_id", "created_at"),)

    author_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    client_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("deals.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("leads.id"))
    task_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("tasks.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
