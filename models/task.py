"""Tasks: due work for an employee, linked to a client, deal or lead."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import TaskKind, TaskStatus

_REMINDER_DUE = sa.text("status = 'open' AND remind_at IS NOT NULL")


class Task(IdMixin, TimestampMixin, Base):
    """Overdue is derived (open and `due_at` passed). `remind_at` is the next moment a
    reminder is due (the warning, the due time, a snooze); firing one clears or moves it in
    the transaction that writes the reminder (services.tasks.reminders)."""

    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_assignee_status_due", "assignee_id", "status", "due_at"),
        sa.Index("ix_tasks_status_remind", "status", "remind_at"),
        sa.Index("ix_tasks_client_created", "client_id", "created_at"),  # the timeline
        sa.Index("ix_tasks_deal_id", "deal_id"),  # a deal's tasks (bulk changes carry them)
        sa.Index(
            "ix_tasks_remind_due",
            "remind_at",
            postgresql_where=_REMINDER_DUE,
            sqlite_where=_REMINDER_DUE,
        ),
    )

    kind: Mapped[TaskKind] = mapped_column(default=TaskKind.GENERAL)
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[TaskStatus] = mapped_column(default=TaskStatus.OPEN)
    due_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    # Visits: the slot's end (start is due_at).
    slot_ends_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    warn_minutes: Mapped[int | None]  # an earlier warning this many minutes before due_at
    reminded_at: Mapped[datetime | None]  # when the last reminder fired
    reminders_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    assignee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    client_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("deals.id"))
    lead_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("leads.id"))
    call_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("calls.id"))
