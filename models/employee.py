"""Employees with roles, work schedules and sales plans."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import Role
from models.office import Office


class Employee(IdMixin, TimestampMixin, Base):
    __tablename__ = "employees"

    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(default=Role.EMPLOYEE)
    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"), index=True)
    telegram_id: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    telegram_username: Mapped[str | None] = mapped_column(sa.String(64))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    # A PBX extension, so that call events can be matched to the employee (one per employee).
    extension: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # "On shift / on break" toggle; schedules say when the shift is.
    on_shift: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    login: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    invite_code: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invite_expires_at: Mapped[datetime | None]

    office: Mapped[Office | None] = relationship(back_populates="employees")
    schedule: Mapped[list[WorkSchedule]] = relationship(
        back_populates="employee", cascade="all, delete-orphan", order_by="WorkSchedule.weekday"
    )


class WorkSchedule(IdMixin, Base):
    """One working interval on a weekday (0 = Monday), local time of the office.

    `ends_at < starts_at` means the shift runs past midnight into the next day; `ends_at ==
    starts_at` is a 24-hour shift (00:00-00:00: the whole weekday). An employee may have
    several shifts a day.
    """

    __tablename__ = "work_schedules"
    __table_args__ = (sa.UniqueConstraint("employee_id", "weekday", "starts_at"),)

    employee_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)
    starts_at: Mapped[time]
    ends_at: Mapped[time]

    employee: Mapped[Employee] = relationship(back_populates="schedule")


class SalesPlan(IdMixin, TimestampMixin, Base):
    """A monthly target for an employee or a whole office."""

    __tablename__ = "sales_plans"
    __table_args__ = (sa.UniqueConstraint("employee_id", "office_id", "month"),)

    employee_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"))
    month: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=Decimal(0))
    deals_count: Mapped[int | None]
