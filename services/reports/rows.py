"""What each report counts, grouped: one SQL select per "family" of numbers, the same whether it
counts a period's rows or rolls up a whole month (services/reports/rollup.py), and the select
that reads the rolled-up month back in the same columns.

A family's select groups by who and where (the employee; the record's own office or its phone
line, so that an office is resolved when the report is read, as the rows are) and its keys,
and names its columns after `report_rollups`' generic ones:

- leads: key1 status, key2 source; n1 leads (by creation)
- calls: line_id; n1 in, n2 out, n3 missed, n4 missed and not called back (by start)
- response: n1 the first response in working time, to the minute a report shows (a bucket);
  n2 leads (by creation)
- deals: n1 created, n2 won, n3 lost; s1 created sum, s2 won sum, s3 lost sum, s4 gross
  profit (by creation, and by closing)
- reasons: key1 lost reason; n1 deals lost (by closing)
- sources: line_id, key1 source, key2 UTM campaign; n1 leads, n2 target leads, n3 their deals,
  n4 won; s1 revenue (by the lead's creation)
- funnel (services/reports/funnel_rows.py): key1 "max" (n2: the farthest position a deal
  reached), "lost" (n2: the lost stage it sits in) or "stay" (n2: a stage left; s1 seconds
  spent in it); n1 pipeline, n3 deals or stays (by the deal's creation)

Summing a family's rows over months and leftover days gives the period's numbers: every fact
falls in exactly one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from models import (
    Call,
    CallStatus,
    Deal,
    DealStatus,
    Direction,
    Employee,
    Lead,
    LeadStatus,
    PhoneLine,
    ReportRollup,
)
from services.reports.periods import Period, Scope, scoped, seconds_after, within

CALL_BACK_WITHIN_SECONDS = 15 * 60  # a missed call called back later than this was not
R = ReportRollup


@dataclass(frozen=True)
class Family:
    name: str
    columns: tuple[str, ...]  # report_rollups' columns it fills, in order
    measures: tuple[str, ...]  # those that add up (the rest group)
    rows: Callable[[Period, Scope, str], sa.Select[Any]]  # (period, scope, dialect)
    calls_office: bool = False  # an office is the employee's, else the line's (calls)


def rolled(family: Family, zone: str, months: Sequence[date], scope: Scope) -> sa.Select[Any]:
    """The family's rolled-up rows of these months, in the scope, in its columns."""
    e = aliased(Employee)
    stmt = (
        sa.select(*[getattr(R, c).label(c) for c in family.columns])
        .select_from(R)
        .outerjoin(e, e.id == R.who)
        .where(R.zone == zone, R.family == family.name, R.month.in_(list(months)))
    )
    if family.calls_office:
        stmt = stmt.outerjoin(PhoneLine, PhoneLine.id == R.line_id)
        office: Any = sa.func.coalesce(e.office_id, PhoneLine.office_id)
    else:
        office = sa.func.coalesce(R.office_id, e.office_id)
    return stmt.where(*scoped(R.who, office, scope))


def union(
    family: Family,
    periods: Sequence[Period],
    less: Sequence[Period],
    months: Sequence[date],
    zone: str,
    scope: Scope,
    dialect: str,
) -> sa.Subquery:
    """The family's rows of the leftover periods, counted; of the rolled-up months; and, to
    take away, of the days of those months outside the period (counted, each measure
    negated). Summing them by the family's keys gives the period's numbers; a key whose
    measures sum to nothing must be left out (`nonzero`)."""
    parts = [family.rows(p, scope, dialect) for p in periods]
    for p in less:
        counted = family.rows(p, scope, dialect).subquery()
        parts.append(
            sa.select(
                *[
                    (-counted.c[c]).label(c) if c in family.measures else counted.c[c]
                    for c in family.columns
                ]
            )
        )
    if months:
        parts.append(rolled(family, zone, months, scope))
    if len(parts) == 1:
        return parts[0].subquery()
    return sa.union_all(*parts).subquery()


def nonzero(*sums: Any) -> sa.ColumnElement[bool]:
    """A HAVING clause: some measure of the group is not nothing (days taken away from a
    rolled-up month can leave a group at zero, which counting the period would not show)."""
    return sa.or_(*[total != 0 for total in sums])


def _lead_office(e: Any) -> Any:
    return sa.func.coalesce(Lead.office_id, e.office_id)


def _leads(period: Period, scope: Scope, dialect: str) -> sa.Select[Any]:
    e = aliased(Employee)
    status = sa.cast(Lead.status, sa.String)
    return (
        sa.select(
            Lead.assignee_id.label("who"),
            Lead.office_id.label("office_id"),
            status.label("key1"),
            Lead.source.label("key2"),
            sa.func.count().label("n1"),
        )
        .outerjoin(e, e.id == Lead.assignee_id)
        .where(within(Lead.created_at, period), *scoped(Lead.assignee_id, _lead_office(e), scope))
        .group_by(Lead.assignee_id, Lead.office_id, status, Lead.source)
    )


def called_back_within(dialect: str) -> sa.ColumnElement[bool]:
    """A call out to the same number within 15 minutes after this `Call` started."""
    back = aliased(Call)
    return (
        sa.select(back.id)
        .where(
            back.direction == Direction.OUT,
            back.client_number == Call.client_number,
            back.started_at >= Call.started_at,
            seconds_after(back.started_at, Call.started_at, dialect) <= CALL_BACK_WITHIN_SECONDS,
        )
        .exists()
    )


def call_office(employee: Any) -> Any:
    """A call's office: its employee's, else its phone line's (an office's own number that
    nobody answered is that office's missed call)."""
    return sa.func.coalesce(employee.office_id, PhoneLine.office_id)


def _calls(period: Period, scope: Scope, dialect: str) -> sa.Select[Any]:
    e = aliased(Employee)
    missed = sa.and_(Call.direction == Direction.IN, Call.status == CallStatus.MISSED)
    return (
        sa.select(
            Call.employee_id.label("who"),
            Call.line_id.label("line_id"),
            sa.func.count().filter(Call.direction == Direction.IN).label("n1"),
            sa.func.count().filter(Call.direction == Direction.OUT).label("n2"),
            sa.func.count().filter(missed).label("n3"),
            sa.func.count().filter(missed, ~called_back_within(dialect)).label("n4"),
        )
        .outerjoin(e, e.id == Call.employee_id)
        .outerjoin(PhoneLine, PhoneLine.id == Call.line_id)
        .where(within(Call.started_at, period), *scoped(Call.employee_id, call_office(e), scope))
        .group_by(Call.employee_id, Call.line_id)
    )


def response_bucket(seconds: Any) -> Any:
    """Seconds to the precision a report shows them (bot/telegram/report_screens.duration):
    whole minutes, rounded half up, at least one; whole days from 48 hours. Percentiles of the
    buckets are the buckets of the percentiles, so a month rolled up loses nothing shown."""
    half_up = (seconds + 30) // 60
    at_least_one = sa.case((half_up < 1, 1), else_=half_up)
    minutes = sa.case((seconds == 0, 0), else_=at_least_one)
    return sa.case((minutes >= 2880, ((minutes + 720) // 1440) * 86400), else_=minutes * 60)


def _responses(period: Period, scope: Scope, dialect: str) -> sa.Select[Any]:
    e = aliased(Employee)
    seconds = Lead.first_response_work_seconds
    bucket = response_bucket(seconds)
    return (
        sa.select(
            Lead.assignee_id.label("who"),
            Lead.office_id.label("office_id"),
            bucket.label("n1"),
            sa.func.count().label("n2"),
        )
        .outerjoin(e, e.id == Lead.assignee_id)
        .where(
            within(Lead.created_at, period),
            seconds.is_not(None),
            *scoped(Lead.assignee_id, _lead_office(e), scope),
        )
        .group_by(Lead.assignee_id, Lead.office_id, bucket)
    )


def deal_office(e: Any) -> Any:
    return sa.func.coalesce(Deal.office_id, e.office_id)


def _deals(period: Period, scope: Scope, dialect: str) -> sa.Select[Any]:
    e = aliased(Employee)
    amount = sa.func.coalesce(Deal.amount, 0)
    created = within(Deal.created_at, period)
    closed = within(Deal.closed_at, period)
    won = sa.and_(Deal.status == DealStatus.WON, closed)
    lost = sa.and_(Deal.status == DealStatus.LOST, closed)
    profit = amount - sa.func.coalesce(Deal.cost, 0)
    return (
        sa.select(
            Deal.owner_id.label("who"),
            Deal.office_id.label("office_id"),
            sa.func.count().filter(created).label("n1"),
            sa.func.count().filter(won).label("n2"),
            sa.func.count().filter(lost).label("n3"),
            sa.func.coalesce(sa.func.sum(amount).filter(created), 0).label("s1"),
            sa.func.coalesce(sa.func.sum(amount).filter(won), 0).label("s2"),
            sa.func.coalesce(sa.func.sum(amount).filter(lost), 0).label("s3"),
            sa.func.coalesce(sa.func.sum(profit).filter(won), 0).label("s4"),
        )
        .outerjoin(e, e.id == Deal.owner_id)
        .where(sa.or_(created, closed), *scoped(Deal.owner_id, deal_office(e), scope))
        .group_by(Deal.owner_id, Deal.office_id)
    )


def _reasons(period: Period, scope: Scope, dialect: str) -> sa.Select[Any]:
    e = aliased(Employee)
    reason = sa.func.coalesce(Deal.lost_reason, "")
    return (
        sa.select(
            Deal.owner_id.label("who"),
            Deal.office_id.label("office_id"),
            reason.label("key1"),
            sa.func.count().label("n1"),
        )
        .outerjoin(e, e.id == Deal.owner_id)
        .where(
            Deal.status == DealStatus.LOST,
            within(Deal.closed_at, period),
            *scoped(Deal.owner_id, deal_office(e), scope),
        )
        .group_by(Deal.owner_id, Deal.office_id, reason)
    )


def _sources(period: Period, scope: Scope, dialect: str) -> sa.Select[Any]:
    e = aliased(Employee)
    won = Deal.status == DealStatus.WON
    target = Lead.status == LeadStatus.TARGET
    return (
        sa.select(
            Lead.assignee_id.label("who"),
            Lead.office_id.label("office_id"),
            Lead.line_id.label("line_id"),
            Lead.source.label("key1"),
            Lead.utm_campaign.label("key2"),
            sa.func.count(sa.distinct(Lead.id)).label("n1"),
            sa.func.count(sa.distinct(Lead.id)).filter(target).label("n2"),
            sa.func.count(sa.distinct(Deal.id)).label("n3"),
            sa.func.count(sa.distinct(Deal.id)).filter(won).label("n4"),
            sa.func.coalesce(sa.func.sum(sa.func.coalesce(Deal.amount, 0)).filter(won), 0).label(
                "s1"
            ),
        )
        .outerjoin(e, e.id == Lead.assignee_id)
        .outerjoin(Deal, Deal.lead_id == Lead.id)
        .where(within(Lead.created_at, period), *scoped(Lead.assignee_id, _lead_office(e), scope))
        .group_by(Lead.assignee_id, Lead.office_id, Lead.line_id, Lead.source, Lead.utm_campaign)
    )


LEADS = Family("leads", ("who", "office_id", "key1", "key2", "n1"), ("n1",), _leads)
CALLS = Family(
    "calls",
    ("who", "line_id", "n1", "n2", "n3", "n4"),
    ("n1", "n2", "n3", "n4"),
    _calls,
    calls_office=True,
)
RESPONSE = Family("response", ("who", "office_id", "n1", "n2"), ("n2",), _responses)
_DEAL_SUMS = ("n1", "n2", "n3", "s1", "s2", "s3", "s4")
DEALS = Family("deals", ("who", "office_id", *_DEAL_SUMS), _DEAL_SUMS, _deals)
REASONS = Family("reasons", ("who", "office_id", "key1", "n1"), ("n1",), _reasons)
SOURCES = Family(
    "sources",
    ("who", "office_id", "line_id", "key1", "key2", "n1", "n2", "n3", "n4", "s1"),
    ("n1", "n2", "n3", "n4", "s1"),
    _sources,
)
FAMILIES = (LEADS, CALLS, RESPONSE, DEALS, REASONS, SOURCES)  # and funnel_rows.FUNNEL
