"""The reports' monthly roll-up (services/reports/rollup.py): what a long period's report
reads instead of a year of rows.

`report_rollups` holds, per time zone and local month, the same grouped numbers a report
counts from the rows (one row per group; `family` says which report part and what the generic
columns mean). `report_rollup_months` says which (zone, month) is complete in it.
`report_changes` is written by triggers (migration 0024) whenever a lead, call, deal or stage
move older than two days changes: the UTC days whose months must be counted again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin

Amount = sa.Numeric(18, 2)


class ReportRollup(IdMixin, Base):
    __tablename__ = "report_rollups"
    __table_args__ = (sa.Index("ix_report_rollups_month", "zone", "family", "month"),)

    zone: Mapped[str] = mapped_column(sa.String(64))
    month: Mapped[date]  # the local month's first day
    family: Mapped[str] = mapped_column(sa.String(16))
    who: Mapped[int | None] = mapped_column(BigId)  # the employee (no foreign key: a snapshot)
    office_id: Mapped[int | None] = mapped_column(BigId)  # the record's own office
    line_id: Mapped[int | None] = mapped_column(BigId)
    key1: Mapped[str | None] = mapped_column(sa.String(500))
    key2: Mapped[str | None] = mapped_column(sa.String(500))
    key3: Mapped[str | None] = mapped_column(sa.String(500))
    n1: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    n2: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    n3: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    n4: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    s1: Mapped[Decimal] = mapped_column(Amount, default=0)
    s2: Mapped[Decimal] = mapped_column(Amount, default=0)
    s3: Mapped[Decimal] = mapped_column(Amount, default=0)
    s4: Mapped[Decimal] = mapped_column(Amount, default=0)


class ReportRollupMonth(Base):
    __tablename__ = "report_rollup_months"

    zone: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)


class ReportChange(IdMixin, Base):
    __tablename__ = "report_changes"

    day: Mapped[date]  # a UTC day whose facts changed
