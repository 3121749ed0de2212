"""Phone calls from the PBX (Mango Office or the generic webhook)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import CallPhase, CallStatus, Direction


class Call(IdMixin, TimestampMixin, Base):
    __tablename__ = "calls"
    __table_args__ = (
        sa.UniqueConstraint("provider", "external_id"),
        sa.Index("ix_calls_client_started", "client_id", "started_at"),
        sa.Index("ix_calls_number_started", "client_number", "started_at"),
        sa.Index("ix_calls_started_at", "started_at"),  # reports: a period's calls
    )

    provider: Mapped[str] = mapped_column(sa.String(32))  # "mango", "generic"
    external_id: Mapped[str] = mapped_column(sa.String(200))  # Mango entry_id, generic call_id
    direction: Mapped[Direction]
    from_number: Mapped[str | None] = mapped_column(sa.String(64))
    to_number: Mapped[str | None] = mapped_column(sa.String(64))
    line_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("phone_lines.id"))
    line_number: Mapped[str | None] = mapped_column(sa.String(32))
    employee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    client_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("clients.id"))
    lead_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("leads.id"))
    # The outside party in E.164 (caller of an incoming call, callee of an outgoing one).
    client_number: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[CallStatus] = mapped_column(default=CallStatus.RINGING)
    phase: Mapped[CallPhase] = mapped_column(default=CallPhase.RINGING, server_default="ringing")
    summarized_at: Mapped[datetime | None]  # the PBX's final word on the call arrived
    # Each leg's last seen state and seq: events of one leg are ordered by seq, legs overlap.
    legs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    talk_seconds: Mapped[int] = mapped_column(default=0)
    recording_url: Mapped[str | None] = mapped_column(sa.String(2000))
    recording_id: Mapped[str | None] = mapped_column(sa.String(200))  # Mango keeps the file
    disconnect_reason: Mapped[str | None] = mapped_column(sa.String(32))
