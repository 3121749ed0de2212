"""The manager's report: per employee and in total, for a period and a scope.

Every number is an SQL aggregate over indexed columns (grouped by employee in the database,
not counted in Python): leads by status and by source (by the lead's creation), calls in, out
and missed (missed ones not called back within 15 minutes apart), first-response median and
p90 (in the responder's working hours), deals created / won / lost with sums and lost reasons
(by when it happened), revenue and gross profit of deals won, and the month's plan with its
percentage and the month-end forecast at the month's run-rate so far.

A lead is its assignee's, a call its employee's, a deal its owner's; what belongs to nobody (a
lead still in the queue, a missed call nobody picked up) counts in the total only. An office's
numbers are those of its leads and deals (or, without an office of their own, of their
person's office) and of its people's calls.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Deal,
    DealStatus,
    Employee,
    SalesPlan,
)
from services.reports import rollup, rows
from services.reports.periods import Period, Scope, scoped, within

Who = int | None  # an employee id; None: nobody's (counted in the total)


@dataclass
class Numbers:
    leads: dict[str, int] = field(default_factory=dict)  # by status
    sources: dict[str, int] = field(default_factory=dict)
    calls_in: int = 0
    calls_out: int = 0
    missed: int = 0
    missed_not_called_back: int = 0
    responded: int = 0  # leads with a first response
    response_median: int | None = None  # seconds
    response_p90: int | None = None
    deals_created: int = 0
    created_sum: Decimal = Decimal(0)
    won: int = 0
    won_sum: Decimal = Decimal(0)
    lost: int = 0
    lost_sum: Decimal = Decimal(0)
    lost_reasons: dict[str, int] = field(default_factory=dict)
    gross_profit: Decimal = Decimal(0)
    plan: Decimal | None = None  # the month's, when the period is in one month
    month_revenue: Decimal = Decimal(0)  # the month so far (to the period's last day)
    forecast: Decimal | None = None  # month_revenue at the month's run-rate, to its end

    @property
    def lead_count(self) -> int:
        return sum(self.leads.values())

    @property
    def revenue(self) -> Decimal:
        return self.won_sum

    @property
    def plan_percent(self) -> int | None:
        if not self.plan:
            return None
        return int(self.month_revenue * 100 / self.plan)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    numbers: Numbers


@dataclass(frozen=True)
class Report:
    period: Period
    scope: Scope
    total: Numbers
    people: list[Person]  # by name; those with nothing at all in the period are left out


async def manager_report(
    session: AsyncSession, period: Period, scope: Scope, *, today: datetime | None = None
) -> Report:
    """`today` (now): how far into the month the forecast's run-rate is counted; and, for a
    long period, which of its months are settled enough to read from the roll-up."""
    by: dict[Who, Numbers] = defaultdict(Numbers)
    total = Numbers()
    parts = await rollup.split(session, period, today)
    dialect = session.get_bind().dialect.name
    await _leads(session, parts.union(rows.LEADS, scope, dialect), by, total)
    await _calls(session, parts.union(rows.CALLS, scope, dialect), by, total)
    await _responses(session, parts.union(rows.RESPONSE, scope, dialect), by, total)
    await _deals(session, parts.union(rows.DEALS, scope, dialect), by, total)
    await _reasons(session, parts.union(rows.REASONS, scope, dialect), by, total)
    await _plans(session, period, scope, by, total, today)
    names = await _names(session, [who for who in by if who is not None])
    people = sorted(
        (Person(who, names.get(who, "?"), numbers) for who, numbers in by.items() if who),
        key=lambda p: (p.name, p.id),
    )
    return Report(period, scope, total, people)


# --- who and where


def _add(by: dict[Who, Numbers], total: Numbers, who: Who, apply: Any) -> None:
    apply(total)
    if who is not None:
        apply(by[who])


# --- leads


async def _leads(
    session: AsyncSession, u: sa.Subquery, by: dict[Who, Numbers], total: Numbers
) -> None:
    total_n = sa.func.sum(u.c.n1)
    stmt = (
        sa.select(u.c.who, u.c.key1, u.c.key2, total_n)
        .group_by(u.c.who, u.c.key1, u.c.key2)
        .having(rows.nonzero(total_n))
    )
    for who, status, source, count in (await session.execute(stmt)).all():

        def apply(
            n: Numbers, status: str = status, source: str = source, count: int = count
        ) -> None:
            n.leads[status] = n.leads.get(status, 0) + int(count)
            n.sources[source] = n.sources.get(source, 0) + int(count)

        _add(by, total, who, apply)


# --- calls


async def _calls(
    session: AsyncSession, u: sa.Subquery, by: dict[Who, Numbers], total: Numbers
) -> None:
    sums = [sa.func.sum(u.c[c]) for c in ("n1", "n2", "n3", "n4")]
    stmt = sa.select(u.c.who, *sums).group_by(u.c.who).having(rows.nonzero(*sums))
    for who, *counts in (await session.execute(stmt)).all():

        def apply(n: Numbers, row: tuple[int, ...] = tuple(int(c) for c in counts)) -> None:
            n.calls_in += row[0]
            n.calls_out += row[1]
            n.missed += row[2]
            n.missed_not_called_back += row[3]

        _add(by, total, who, apply)


# --- first response


async def _responses(
    session: AsyncSession, u: sa.Subquery, by: dict[Who, Numbers], total: Numbers
) -> None:
    """Median and p90 (nearest rank) of the first-response times of the period's leads, in
    working hours (services.leads.actions.record_response) and to the minute a report shows
    (rows.response_bucket), per employee and in total: counts per bucket, summed over the
    period's parts, and the first bucket whose running count reaches the rank. Window
    functions, the same on SQLite and PostgreSQL."""
    for grouped in (True, False):
        who = u.c.who if grouped else sa.null()
        counted = (
            sa.select(
                who.label("who"),
                u.c.n1.label("x"),
                sa.cast(sa.func.sum(u.c.n2), sa.BigInteger).label("c"),  # PostgreSQL: numeric
            )
            .group_by(*([u.c.who] if grouped else []), u.c.n1)
            .having(rows.nonzero(sa.func.sum(u.c.n2)))
            .subquery()
        )
        part = [counted.c.who] if grouped else []
        ranked = sa.select(
            counted.c.who,
            counted.c.x,
            _whole(sa.func.sum(counted.c.c).over(partition_by=part, order_by=counted.c.x)).label(
                "cum"
            ),
            _whole(sa.func.sum(counted.c.c).over(partition_by=part)).label("n"),
        ).subquery()
        stmt = sa.select(
            ranked.c.who,
            sa.func.max(ranked.c.n),
            sa.func.min(sa.case((ranked.c.cum >= (ranked.c.n + 1) // 2, ranked.c.x))),
            sa.func.min(sa.case((ranked.c.cum >= (9 * ranked.c.n + 9) // 10, ranked.c.x))),
        ).group_by(ranked.c.who)
        for person, count, median, p90 in (await session.execute(stmt)).all():
            target = (by[person] if person is not None else None) if grouped else total
            if target is None or count is None:
                continue
            target.responded = int(count)
            target.response_median, target.response_p90 = int(median), int(p90)


# --- deals


async def _deals(
    session: AsyncSession, u: sa.Subquery, by: dict[Who, Numbers], total: Numbers
) -> None:
    names = ("n1", "n2", "n3", "s1", "s2", "s3", "s4")
    sums = [sa.func.sum(u.c[c]) for c in names]
    stmt = sa.select(u.c.who, *sums).group_by(u.c.who).having(rows.nonzero(*sums))
    for who, created, won_n, lost_n, created_sum, won_sum, lost_sum, profit in (
        await session.execute(stmt)
    ).all():

        def apply(
            n: Numbers,
            r: tuple[Any, ...] = (created, created_sum, won_n, won_sum, lost_n, lost_sum, profit),
        ) -> None:
            n.deals_created += int(r[0])
            n.created_sum += money(r[1])
            n.won += int(r[2])
            n.won_sum += money(r[3])
            n.lost += int(r[4])
            n.lost_sum += money(r[5])
            n.gross_profit += money(r[6])

        _add(by, total, who, apply)


async def _reasons(
    session: AsyncSession, u: sa.Subquery, by: dict[Who, Numbers], total: Numbers
) -> None:
    lost = sa.func.sum(u.c.n1)
    stmt = sa.select(u.c.who, u.c.key1, lost).group_by(u.c.who, u.c.key1).having(rows.nonzero(lost))
    for who, why, count in (await session.execute(stmt)).all():
        key = str(why).partition(":")[0] or "other"  # "other: typed words" counts as other

        def apply(n: Numbers, key: str = key, count: int = int(count)) -> None:
            n.lost_reasons[key] = n.lost_reasons.get(key, 0) + count

        _add(by, total, who, apply)


def _whole(total: Any) -> Any:
    """A sum of integers as an integer (PostgreSQL's is numeric: its `/` would not floor)."""
    return sa.cast(total, sa.BigInteger)


def money(value: Any) -> Decimal:
    """A sum as the database gives it (SQLite: a float once summed) to the kopeck."""
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else Decimal(0)


# --- plans


async def _plans(
    session: AsyncSession,
    period: Period,
    scope: Scope,
    by: dict[Who, Numbers],
    total: Numbers,
    today: datetime | None,
) -> None:
    """Plans are monthly: shown when the period lies in one month. The month's revenue is
    counted to the period's last day; the forecast runs it on to the month's end at the rate
    of the days gone (to today, if the month is the current one)."""
    if (period.first.year, period.first.month) != (period.last.year, period.last.month):
        return
    month = period.month()
    so_far = Period(month.first, period.last, period.tz)
    e = aliased(Employee)
    office = sa.func.coalesce(Deal.office_id, e.office_id)
    won = sa.and_(Deal.status == DealStatus.WON, within(Deal.closed_at, so_far))
    revenue = (
        sa.select(Deal.owner_id, sa.func.coalesce(sa.func.sum(sa.func.coalesce(Deal.amount, 0)), 0))
        .outerjoin(e, e.id == Deal.owner_id)
        .where(won, *scoped(Deal.owner_id, office, scope))
        .group_by(Deal.owner_id)
    )
    for who, amount in (await session.execute(revenue)).all():

        def apply(n: Numbers, amount: Any = amount) -> None:
            n.month_revenue += Decimal(amount)

        _add(by, total, who, apply)
    pe = aliased(Employee)
    plans = (
        sa.select(SalesPlan.employee_id, SalesPlan.amount)
        .join(pe, pe.id == SalesPlan.employee_id)
        .where(
            SalesPlan.month == month.first,
            SalesPlan.office_id.is_(None),  # an employee's own plan
            *scoped(SalesPlan.employee_id, pe.office_id, scope),
        )
    )
    for who, amount in (await session.execute(plans)).all():
        numbers = by[who]
        numbers.plan = Decimal(amount)
        total.plan = (total.plan or Decimal(0)) + Decimal(amount)
    elapsed = _days_gone(month, so_far, today)
    for numbers in [total, *by.values()]:
        numbers.forecast = (numbers.month_revenue * month.days / elapsed).quantize(Decimal(1))


def _days_gone(month: Period, so_far: Period, today: datetime | None) -> int:
    """The days the month's revenue so far was made in: to the period's last day, or to
    today when the period runs past it (a range typed to the month's end)."""
    if today is not None:
        local = today.astimezone(month.tz).date()
        if month.first <= local <= so_far.last:
            return (local - month.first).days + 1
    return so_far.days


async def _names(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(sa.select(Employee.id, Employee.name).where(Employee.id.in_(ids)))
    return {i: name for i, name in rows.all()}
