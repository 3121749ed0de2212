"""Monthly sales plans per employee (`crm plan set`; the admin web later)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, SalesPlan
from services import audit
from services.errors import InvalidInput, NotFound

MAX_PLAN = Decimal("999999999999.99")


def month_of(text: str) -> date:
    """ "2026-12" → the month's first day."""
    try:
        year, month = (int(x) for x in text.strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput("a month is YYYY-MM", key="report.bad_month") from None


def amount_of(text: str) -> Decimal:
    try:
        amount = Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise InvalidInput("an amount is a number", key="report.bad_amount") from None
    if not (0 <= amount <= MAX_PLAN) or not amount.is_finite():
        raise InvalidInput("an amount is a number", key="report.bad_amount")
    return amount.quantize(Decimal("0.01"))


async def set_plan(
    session: AsyncSession,
    employee_id: int,
    month: date,
    amount: Decimal,
    *,
    now: datetime,
    actor_id: int | None = None,
) -> SalesPlan:
    """The employee's plan for the month (replacing the one set before), audited."""
    if await session.get(Employee, employee_id) is None:
        raise NotFound("no such employee", key="report.no_employee")
    month = month.replace(day=1)
    plan = await session.scalar(
        sa.select(SalesPlan).where(
            SalesPlan.employee_id == employee_id,
            SalesPlan.office_id.is_(None),
            SalesPlan.month == month,
        )
    )
    before = plan.amount if plan else None
    if plan is None:
        plan = SalesPlan(employee_id=employee_id, month=month, created_at=now)
        session.add(plan)
    plan.amount, plan.updated_at = amount, now
    await session.flush()
    await audit.log(
        session,
        action="plan.set",
        entity_type="employee",
        entity_id=employee_id,
        at=now,
        actor_id=actor_id,
        actor_kind="employee" if actor_id else "system",
        changes={"month": month.isoformat(), "amount": [str(before), str(amount)]},
    )
    return plan


async def of_month(session: AsyncSession, month: date) -> list[tuple[str, Decimal]]:
    """(employee, amount) of the month's plans, by name."""
    rows = await session.execute(
        sa.select(Employee.name, SalesPlan.amount)
        .join(Employee, Employee.id == SalesPlan.employee_id)
        .where(SalesPlan.month == month.replace(day=1))
        .order_by(Employee.name)
    )
    return [(name, amount) for name, amount in rows.all()]
