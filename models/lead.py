"""Leads: single incoming requests with their source, UTM tags and response time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.client import Client
from models.enums import LeadStatus

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class Lead(IdMixin, TimestampMixin, Base):
    __tablename__ = "leads"
    __table_args__ = (
        # Carrying the client: an employee's own clients read from the index alone (0014).
        sa.Index(
            "ix_leads_assignee_status", "assignee_id", "status", postgresql_include=["client_id"]
        ),
        sa.Index("ix_leads_created_at", "created_at"),
        sa.Index("ix_leads_client_created", "client_id", "created_at"),  # the timeline
        # The untaken leads a manager works from (services.leads.lists), oldest first, counted
        # and paged from this alone: a few thousand rows, not every lead ever (0016).
        sa.Index(
            "ix_leads_new",
            "id",
            "office_id",
            postgresql_where=sa.text(f"status = '{LeadStatus.NEW.value}'"),
            sqlite_where=sa.text(f"status = '{LeadStatus.NEW.value}'"),
        ),
    )

    client_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    contact_person_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("contact_persons.id")
    )
    status: Mapped[LeadStatus] = mapped_column(default=LeadStatus.NEW, index=True)
    # Where it came from: "form:tilda", "call", "whatsapp", ... and the detail behind it.
    source: Mapped[str] = mapped_column(sa.String(100))
    form_name: Mapped[str | None] = mapped_column(sa.String(200))
    landing_url: Mapped[str | None] = mapped_column(sa.String(2000))
    line_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("phone_lines.id"))
    utm_source: Mapped[str | None] = mapped_column(sa.String(300))
    utm_medium: Mapped[str | None] = mapped_column(sa.String(300))
    utm_campaign: Mapped[str | None] = mapped_column(sa.String(300))
    utm_term: Mapped[str | None] = mapped_column(sa.String(300))
    utm_content: Mapped[str | None] = mapped_column(sa.String(300))

    name: Mapped[str | None] = mapped_column(sa.String(300))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    # The phone as submitted when it could not be read as a number; never a guessed phone.
    raw_phone: Mapped[str | None] = mapped_column(sa.String(100))
    phone_invalid: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    email: Mapped[str | None] = mapped_column(sa.String(320))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)

    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"))
    assignee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    is_returning: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    # Why it was marked non-target or spam (picked from buttons).
    close_reason: Mapped[str | None] = mapped_column(sa.String(200))
    first_response_seconds: Mapped[int | None]
    # ... of it inside the responder's working hours (their shifts; reports count these)
    first_response_work_seconds: Mapped[int | None]

    client: Mapped[Client] = relationship()
