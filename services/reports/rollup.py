"""The monthly roll-up: a long period's report reads its months from `report_rollups` (a
few rows per employee and month) and counts only the days left over from the rows (or, for a
month it covers most of, the days to take away), so a year costs about what a month does.

A month is rolled up (per time zone, the first time a report needs it, or ahead of time by the
scheduler's roll_up_reports) once it ended `SETTLED` ago, by the application's clock and the
database's. Triggers (migration 0024) mark the UTC day of every lead, call, deal or stage move
older than two days that is written, changed or deleted; before reading, `split` forgets the
months around each marked day and rolls them up again from the rows. Nothing is rolled up
that the triggers would not mark: a month settled three days after its end is older than the
two days they skip.

Forgetting and rolling up happen in the reader's transaction, one writer at a time (an
advisory lock on PostgreSQL; SQLite has one writer anyway). A month's rows are replaced in the
transaction that rolls it up again, so whoever reads it sees it whole, before or after.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Office, ReportChange, ReportRollup, ReportRollupMonth
from services.reports import funnel_rows, rows
from services.reports.periods import Period, Scope

SETTLED = timedelta(days=3)
# A mark of this day forgets every month (stages changed, a table truncated: migration 0024).
EVERYTHING = date(1970, 1, 1)
_LOCK = 0x7265706F7274  # "report": the advisory lock of roll-up writers
FAMILIES = (*rows.FAMILIES, funnel_rows.FUNNEL)  # every family a month rolls up
_NUMBERS = ("n1", "n2", "n3", "n4", "s1", "s2", "s3", "s4")


@dataclass(frozen=True)
class Split:
    zone: str
    months: list[date]  # months read from the roll-up (their first days)
    rest: list[Period]  # days counted from the rows
    less: list[Period] = field(default_factory=list)  # days of those months to take away

    def union(self, family: rows.Family, scope: Scope, dialect: str) -> sa.Subquery:
        return rows.union(family, self.rest, self.less, self.months, self.zone, scope, dialect)


def zone_of(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


async def split(session: AsyncSession, period: Period, now: datetime | None = None) -> Split:
    """The period as rolled-up months and days counted from the rows (none rolled up: all of
    it from the rows). A month the period covers most of is read rolled up, less the days
    outside the period; so a year from the 6th of a month to the 5th counts ten days from the
    rows, not a month. `now`: the application's clock (a month that has not settled by it is
    not rolled up)."""
    zone = zone_of(period.tz)
    if not plan(period, lambda month: _settled(month, period.tz, now)).months:
        return Split(zone, [], [period])
    db_now = _aware(await session.scalar(sa.select(sa.func.current_timestamp())))
    found = plan(
        period, lambda month: _settled(month, period.tz, now) and _settled(month, period.tz, db_now)
    )
    if found.months and await _work_to_do(session, zone, found.months):
        await _one_at_a_time(session)
        await forget_changed(session)
        await _roll_up(session, zone, period.tz, found.months)
    return found


def plan(period: Period, settled: Callable[[date], bool]) -> Split:
    """Which months to read rolled up (settled ones the period covers more than half of),
    which days to count, which to take away."""
    months: list[date] = []
    rest: list[Period] = []
    less: list[Period] = []
    month = period.first.replace(day=1)
    while month <= period.last:
        last = _month_last(month)
        inside = Period(max(month, period.first), min(last, period.last), period.tz)
        outside = [
            Period(first, end, period.tz)
            for first, end in (
                (month, inside.first - timedelta(days=1)),
                (inside.last + timedelta(days=1), last),
            )
            if first <= end
        ]
        if settled(month) and sum(p.days for p in outside) < inside.days:
            months.append(month)
            less.extend(outside)
        elif rest and rest[-1].last + timedelta(days=1) == inside.first:
            rest[-1] = Period(rest[-1].first, inside.last, period.tz)
        else:
            rest.append(inside)
        month = last + timedelta(days=1)
    return Split(zone_of(period.tz), months, rest, less)


async def _work_to_do(session: AsyncSession, zone: str, months: list[date]) -> bool:
    """Whether a day around these months was marked (or everything), or one of them is not
    rolled up yet: two index reads. Marks elsewhere are left to the job."""
    near = sa.or_(
        ReportChange.day == EVERYTHING,
        ReportChange.day.between(
            months[0] - timedelta(days=1), _month_last(months[-1]) + timedelta(days=1)
        ),
    )
    if await session.scalar(sa.select(sa.exists().where(near))):
        return True
    there = await session.scalar(
        sa.select(sa.func.count())
        .select_from(ReportRollupMonth)
        .where(ReportRollupMonth.zone == zone, ReportRollupMonth.month.in_(months))
    )
    return there != len(months)


async def _one_at_a_time(session: AsyncSession) -> None:
    """Forgetting and rolling up take a transaction-long lock on PostgreSQL: one forgetting
    months another is claiming would otherwise wait for each other for ever (SQLite has one
    writer anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK)))


async def zones(session: AsyncSession, default: tzinfo) -> list[tzinfo]:
    """The zones reports are read in: the company's and its offices' (a valid name only)."""
    found: dict[str, tzinfo] = {zone_of(default): default}
    names = await session.execute(sa.select(Office.timezone).distinct())
    for name in names.scalars():
        try:
            tz = ZoneInfo(name) if name else None
        except (KeyError, ValueError):
            tz = None
        if tz is not None:
            found.setdefault(zone_of(tz), tz)
    return list(found.values())


async def prepare(
    session: AsyncSession, zones: list[tzinfo], now: datetime, *, at_most: int = 2
) -> tuple[int, bool]:
    """Ahead of the reports (the scheduler's roll_up_reports): forget the months around
    changed days, and roll up the last year's settled months missing in each zone, `at_most`
    of them (one unit of work stays short). Returns how many were rolled up, and whether
    more are missing."""
    await _one_at_a_time(session)
    await forget_changed(session)
    db_now = _aware(await session.scalar(sa.select(sa.func.current_timestamp())))
    built = 0
    for tz in zones:
        zone = zone_of(tz)
        last = now.astimezone(tz).date()
        year = Period(last - timedelta(days=365), last, tz)
        wanted = plan(
            year, lambda m, tz=tz: _settled(m, tz, now) and _settled(m, tz, db_now)
        ).months
        there = set(
            (
                await session.execute(
                    sa.select(ReportRollupMonth.month).where(ReportRollupMonth.zone == zone)
                )
            ).scalars()
        )
        for month in [m for m in wanted if m not in there]:
            if built == at_most:
                return built, True
            await _roll_up(session, zone, tz, [month])
            built += 1
    return built, False


async def forget_changed(session: AsyncSession) -> int:
    """Forget every rolled-up month (of any zone) around a marked day; the marks go. Returns
    how many marks there were. The month's rows stay until it is rolled up again (in one
    transaction with deleting them): a report that found the month rolled up a moment ago
    reads it whole, as it was then."""
    taken = sa.delete(ReportChange).returning(ReportChange.day)
    days = set((await session.execute(taken)).scalars())
    if not days:
        return 0
    if EVERYTHING in days:
        await session.execute(sa.delete(ReportRollupMonth))
        return len(days)
    # a local day lies within a day of its UTC one, whatever the zone
    months = sorted({(d + timedelta(days=k)).replace(day=1) for d in days for k in (-1, 0, 1)})
    for chunk in _chunks(months, 500):
        await session.execute(
            sa.delete(ReportRollupMonth).where(ReportRollupMonth.month.in_(chunk))
        )
    return len(days)


async def _roll_up(session: AsyncSession, zone: str, tz: tzinfo, months: list[date]) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for month in months:
        claim = (
            insert(ReportRollupMonth)
            .values(zone=zone, month=month)
            .on_conflict_do_nothing()
            .returning(ReportRollupMonth.month)
        )
        if (await session.execute(claim)).scalar() is None:
            continue  # rolled up already (or by a report that just did)
        await session.execute(
            sa.delete(ReportRollup).where(ReportRollup.zone == zone, ReportRollup.month == month)
        )
        whole = Period(month, _month_last(month), tz)
        for family in FAMILIES:
            counted = family.rows(whole, Scope(), dialect).subquery()
            zeros = [sa.literal(0).label(c) for c in _NUMBERS if c not in family.columns]
            select = sa.select(
                sa.literal(zone).label("zone"),
                sa.literal(month, sa.Date).label("month"),
                sa.literal(family.name).label("family"),
                *[counted.c[c] for c in family.columns],
                *zeros,
            )
            names = ["zone", "month", "family", *family.columns]
            names += [c for c in _NUMBERS if c not in family.columns]
            await session.execute(sa.insert(ReportRollup).from_select(names, select))


def _settled(month: date, tz: tzinfo, now: datetime | None) -> bool:
    if now is None:
        return False
    return Period(month, _month_last(month), tz).end <= now - SETTLED


def _month_last(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _next_month(month: date) -> date:
    return _month_last(month) + timedelta(days=1)


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's CURRENT_TIMESTAMP: "YYYY-MM-DD HH:MM:SS", in UTC
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _chunks(items: list[date], size: int) -> list[list[date]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
