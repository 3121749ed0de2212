"""Inbound events already processed: the idempotency record of every webhook delivery."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, utcnow


class InboundEvent(IdMixin, Base):
    __tablename__ = "inbound_events"
    __table_args__ = (sa.UniqueConstraint("source", "external_id"),)

    source: Mapped[str] = mapped_column(sa.String(64))
    external_id: Mapped[str] = mapped_column(sa.String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    entity_type: Mapped[str | None] = mapped_column(sa.String(32))
    entity_id: Mapped[int | None] = mapped_column(BigId)
