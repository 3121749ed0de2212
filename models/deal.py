"""Deals moving through configurable pipelines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import DealStatus, StageKind
from models.text import folded

DEFAULT_PIPELINE = "Продажи"
DEFAULT_STAGES: tuple[tuple[str, StageKind], ...] = (
    ("Неразобранное", StageKind.OPEN),
    ("Первичный контакт", StageKind.OPEN),
    ("Переговоры", StageKind.OPEN),
    ("Принимают решение", StageKind.OPEN),
    ("Согласование договора", StageKind.OPEN),
    ("Успешно реализовано", StageKind.WON),
    ("Не реализовано", StageKind.LOST),
)


class Pipeline(IdMixin, TimestampMixin, Base):
    __tablename__ = "pipelines"

    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    stages: Mapped[list[PipelineStage]] = relationship(
        back_populates="pipeline", order_by="PipelineStage.position"
    )


class PipelineStage(IdMixin, Base):
    __tablename__ = "pipeline_stages"
    __table_args__ = (sa.UniqueConstraint("pipeline_id", "position"),)

    pipeline_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pipelines.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int]
    kind: Mapped[StageKind] = mapped_column(default=StageKind.OPEN)
    # A deal sitting here longer than this is "stuck" and escalated.
    stuck_after_days: Mapped[int | None]

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")


class Deal(IdMixin, TimestampMixin, Base):
    __tablename__ = "deals"
    __table_args__ = (
        sa.Index("ix_deals_owner_status", "owner_id", "status", postgresql_include=["client_id"]),
        sa.Index("ix_deals_office_status", "office_id", "status"),
        # The office's totals per stage, summed from the index alone (0014).
        sa.Index("ix_deals_office_stage", "office_id", "stage_id", postgresql_include=["amount"]),
        sa.Index("ix_deals_client_created", "client_id", "created_at"),  # the timeline
        # reports: deals made, and closed, in a period; deals of the leads in a period
        sa.Index("ix_deals_created_at", "created_at"),
        sa.Index("ix_deals_closed_at", "closed_at"),
        sa.Index("ix_deals_lead_id", "lead_id"),
    )

    client_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("leads.id"))
    pipeline_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pipelines.id"))
    stage_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pipeline_stages.id"))
    title: Mapped[str] = mapped_column(sa.String(300))
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    cost: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    currency: Mapped[str] = mapped_column(sa.String(3), default="RUB")
    owner_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"))
    status: Mapped[DealStatus] = mapped_column(default=DealStatus.OPEN)
    stage_changed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    lost_reason: Mapped[str | None] = mapped_column(sa.String(500))

    stage: Mapped[PipelineStage] = relationship()


# The admin web's deal list (services.deals.lists): sorted by amount, a page at a time by key
# (a deal without an amount sorts as 0); and words of titles, folded as models.text folds them,
# found by trigrams on PostgreSQL (SQLite scans, fine at its scale). Migration 0025.
sa.Index("ix_deals_amount_id", sa.func.coalesce(Deal.amount, 0), Deal.id)
sa.Index(
    "ix_deals_title_trgm",
    folded(Deal.title).label("folded_title"),
    postgresql_using="gin",
    postgresql_ops={"folded_title": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")


class DealStageChange(IdMixin, Base):
    """One move of a deal: from which stage to which, by whom, when (creation has no from)."""

    __tablename__ = "deal_stage_changes"
    __table_args__ = (sa.Index("ix_deal_stage_changes_deal_at", "deal_id", "at"),)

    deal_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("deals.id", ondelete="CASCADE"))
    from_stage_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("pipeline_stages.id"))
    to_stage_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pipeline_stages.id"))
    by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    at: Mapped[datetime]
