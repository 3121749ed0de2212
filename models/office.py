"""Offices and the company's phone lines (each line is a named lead source)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin

if TYPE_CHECKING:
    from models.employee import Employee


class Office(IdMixin, TimestampMixin, Base):
    __tablename__ = "offices"

    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # Overrides the company TIMEZONE for schedules of this office's employees.
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    employees: Mapped[list[Employee]] = relationship(back_populates="office")


class PhoneLine(IdMixin, TimestampMixin, Base):
    """A number or SIM the company is called on; `source` names the ad or channel behind it."""

    __tablename__ = "phone_lines"

    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str | None] = mapped_column(sa.String(100))
    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"))
    employee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
