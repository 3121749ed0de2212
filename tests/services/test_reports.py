"""The manager's report against hand-computed fixtures: an empty day, a day of leads, calls
and deals (lost ones, a reopened one), an employee with and without a plan, a lead on each
side of a local midnight, and a day that has 25 hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import hypothesis
import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from models import CallStatus, DealStatus, Direction, Lead, LeadStatus, Role, SalesPlan, StageKind
from services import reports
from services.actors import Actor
from services.errors import AccessDenied
from tests.report_data import MSK, call, deal, lead, msk, staff

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 12, 2)


@pytest.fixture
async def people(session, clock):
    return await staff(session, clock)


async def test_an_empty_day_has_zeros_and_nobody(session, people):
    period = reports.Period(DAY, DAY, MSK)
    report = await reports.manager_report(session, period, reports.Scope())
    assert report.people == []
    total = report.total
    assert (total.lead_count, total.calls_in, total.won, total.revenue) == (0, 0, 0, Decimal(0))
    assert total.response_median is None and total.plan is None


async def test_a_day_of_leads_calls_and_deals_per_employee_and_in_total(session, people):
    anna, boris, olga = people
    # leads: three of Anna's, one of Boris's, one in the queue, one of Olga's (another office)
    await lead(session, msk(2, 9), who=anna, status=LeadStatus.NEW, response=60)
    await lead(session, msk(2, 12), who=anna, status=LeadStatus.TARGET, response=300)
    await lead(session, msk(2, 23, 59, 30), who=anna, status=LeadStatus.SPAM, source="whatsapp")
    await lead(session, msk(3, 0, 0, 10), who=anna)  # the next local day (still Dec 2 in UTC)
    await lead(session, msk(2, 10), who=boris, status=LeadStatus.TARGET, response=120)
    await lead(session, msk(2, 11))  # nobody's yet
    await lead(session, msk(2, 11), who=olga, response=5)
    # calls: Anna answers two, calls once, misses two (one called back in 10 min, one in 20)
    call(session, msk(2, 9), Direction.IN, CallStatus.ANSWERED, who=anna)
    call(session, msk(2, 9, 30), Direction.IN, CallStatus.ANSWERED, who=anna)
    call(session, msk(2, 13), Direction.IN, CallStatus.MISSED, who=anna, number="+79120000002")
    call(
        session, msk(2, 13, 10), Direction.OUT, CallStatus.ANSWERED, who=anna, number="+79120000002"
    )
    call(session, msk(2, 15), Direction.IN, CallStatus.MISSED, who=anna, number="+79120000003")
    call(session, msk(2, 15, 20), Direction.OUT, CallStatus.MISSED, who=anna, number="+79120000003")
    call(session, msk(2, 16), Direction.IN, CallStatus.MISSED, number="+79120000004")  # nobody's
    # deals: Anna creates two; wins one from November; loses two; one won and reopened
    await deal(session, anna, created=msk(2, 10), amount=100_000)
    await deal(session, anna, created=msk(2, 11), amount=None)
    await deal(
        session,
        anna,
        created=msk(1, 10).replace(month=11),
        amount=100_000,
        status=DealStatus.WON,
        closed=msk(2, 14),
        cost=60_000,
    )
    await deal(
        session, anna, created=msk(1, 9), amount=200_000, status=DealStatus.WON, closed=msk(1, 18)
    )
    await deal(
        session,
        anna,
        created=msk(1, 9),
        amount=30_000,
        status=DealStatus.LOST,
        closed=msk(2, 12),
        reason="price",
    )
    await deal(
        session,
        anna,
        created=msk(1, 9),
        amount=None,
        status=DealStatus.LOST,
        closed=msk(2, 17),
        reason="other: дорого",
    )
    await deal(session, anna, created=msk(1, 9), amount=70_000, status=DealStatus.OPEN)  # reopened
    session.add(SalesPlan(employee_id=anna.id, month=date(2026, 12, 1), amount=Decimal(1_000_000)))
    await session.flush()

    period = reports.Period(DAY, DAY, MSK)
    office = anna.office_id
    report = await reports.manager_report(
        session, period, reports.Scope(office_id=office), today=msk(2, 20)
    )
    assert [p.name for p in report.people] == ["Анна", "Борис"]
    a, b = (p.numbers for p in report.people)
    assert a.leads == {"new": 1, "target": 1, "spam": 1}
    assert a.sources == {"form:site": 2, "whatsapp": 1}
    assert (a.calls_in, a.calls_out, a.missed, a.missed_not_called_back) == (4, 2, 2, 1)
    assert (a.responded, a.response_median, a.response_p90) == (2, 60, 300)
    assert (a.deals_created, a.created_sum) == (2, Decimal(100_000))
    assert (a.won, a.won_sum, a.gross_profit) == (1, Decimal(100_000), Decimal(40_000))
    assert (a.lost, a.lost_sum, a.lost_reasons) == (2, Decimal(30_000), {"price": 1, "other": 1})
    assert a.plan == Decimal(1_000_000) and a.month_revenue == Decimal(300_000)
    assert a.plan_percent == 30
    assert a.forecast == Decimal(4_650_000)  # 300 000 in 2 days of 31
    assert b.leads == {"target": 1} and (b.response_median, b.response_p90) == (120, 120)
    assert b.plan is None and b.plan_percent is None  # no plan: no percentage
    total = report.total
    assert total.lead_count == 4  # Olga's office and the queue's lead are not this office's
    assert (total.response_median, total.response_p90) == (120, 300)  # of 60, 120, 300

    company = await reports.manager_report(session, period, reports.Scope(), today=msk(2, 20))
    assert company.total.lead_count == 6
    assert (company.total.missed, company.total.missed_not_called_back) == (3, 2)
    assert [p.name for p in company.people] == ["Анна", "Борис", "Ольга"]


async def test_a_day_with_25_hours_counts_all_of_them(session, people):
    anna, _boris, _olga = people
    berlin = lambda *a: datetime(*a, tzinfo=BERLIN).astimezone(UTC)  # noqa: E731
    await lead(session, berlin(2026, 10, 25, 0, 30), who=anna)
    await lead(session, berlin(2026, 10, 25, 23, 30), who=anna)
    await lead(session, berlin(2026, 10, 24, 23, 30), who=anna)  # the day before
    period = reports.Period(date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert (period.end - period.start).total_seconds() == 25 * 3600
    report = await reports.manager_report(session, period, reports.Scope(employee_id=anna.id))
    assert report.total.lead_count == 2


async def test_who_may_see_what(people):
    anna, boris, olga = people
    me = Actor.of(anna)
    assert reports.scope_for(me) == reports.Scope(anna.id, None)
    with pytest.raises(AccessDenied):
        reports.scope_for(me, employee_id=boris.id)
    boss = Actor(99, Role.MANAGER, anna.office_id, "Пётр")
    assert reports.scope_for(boss) == reports.Scope(None, anna.office_id)
    assert reports.scope_for(boss, employee_id=boris.id) == reports.Scope(boris.id, anna.office_id)
    with pytest.raises(AccessDenied):
        reports.scope_for(boss, office_id=olga.office_id)
    admin = Actor(98, Role.ADMIN, None, "Админ")
    assert reports.scope_for(admin, office_id=olga.office_id) == reports.Scope(None, olga.office_id)


def test_working_seconds_count_only_the_shifts():
    from datetime import time

    from services.assignment import Shift, working_seconds

    nine_to_six = [Shift(d, time(9), time(18)) for d in range(5)]
    friday = datetime(2026, 12, 4, 17, 50, tzinfo=MSK)
    monday = datetime(2026, 12, 7, 9, 10, tzinfo=MSK)
    assert working_seconds(nine_to_six, friday, monday, MSK) == 20 * 60
    assert working_seconds([], friday, monday, MSK) == int((monday - friday).total_seconds())
    night = [Shift(d, time(20), time(8)) for d in range(7)]  # across midnight, every day
    evening = datetime(2026, 12, 4, 19, 0, tzinfo=MSK)
    assert working_seconds(night, evening, evening.replace(day=5, hour=9), MSK) == 12 * 3600
    # the night of the autumn change in Berlin has one hour more
    change = [Shift(5, time(22), time(6))]  # Saturday 22:00 to Sunday 06:00
    start = datetime(2026, 10, 24, 21, 0, tzinfo=BERLIN)
    assert working_seconds(change, start, start.replace(day=25, hour=12), BERLIN) == 9 * 3600


def test_overlapping_shifts_count_once():
    from services.assignment import Shift, working_seconds

    # Sunday 22:00-06:00 and Monday 00:00-08:00 overlap from midnight to six
    shifts = [Shift(6, time(22), time(6)), Shift(0, time(0), time(8))]
    sunday = datetime(2026, 12, 6, 21, 0, tzinfo=MSK)
    assert working_seconds(shifts, sunday, sunday + timedelta(hours=12), MSK) == 10 * 3600


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    shifts=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 23), st.integers(0, 23)), max_size=5
    ),
    start_minute=st.integers(0, 7 * 24 * 60),
    length=st.integers(0, 3 * 24 * 60),
)
def test_working_seconds_are_the_minutes_on_duty(shifts, start_minute, length):
    """Whatever the shifts (overnight, 24-hour, overlapping), the working seconds of a span are
    the minutes of it on duty, counted one by one (Moscow has no clock changes)."""
    from services.assignment import Shift, is_on_duty, working_seconds

    week = [Shift(d, time(a), time(b)) for d, a, b in shifts]
    start = datetime(2026, 11, 30, tzinfo=MSK) + timedelta(minutes=start_minute)
    minutes = [start + timedelta(minutes=m) for m in range(length)]
    on_duty = sum(1 for m in minutes if is_on_duty(week, m))
    assert working_seconds(week, start, start + timedelta(minutes=length), MSK) == on_duty * 60


async def test_a_lead_taken_after_the_weekend_took_twenty_working_minutes(
    session, company, clock, people
):
    from models import WorkSchedule
    from services.leads import actions

    anna, _boris, _olga = people
    for day in range(5):
        session.add(
            WorkSchedule(employee_id=anna.id, weekday=day, starts_at=time(9), ends_at=time(18))
        )
    await lead(session, datetime(2026, 12, 4, 17, 50, tzinfo=MSK).astimezone(UTC), who=anna)
    await session.flush()
    [row] = (await session.execute(sa.select(Lead))).scalars()
    row.first_response_seconds = row.first_response_work_seconds = None
    clock.set(datetime(2026, 12, 7, 9, 10, tzinfo=MSK).astimezone(UTC))
    await actions.take(session, row.id, by=Actor.of(anna), company=company)
    assert row.first_response_work_seconds == 20 * 60
    assert row.first_response_seconds == (2 * 24 * 3600) + 15 * 3600 + 20 * 60
    monday = reports.Period(date(2026, 12, 4), date(2026, 12, 4), MSK)
    report = await reports.manager_report(session, monday, reports.Scope(employee_id=anna.id))
    assert report.total.response_median == 20 * 60


async def test_sources_count_leads_target_share_and_what_their_deals_brought(session, people):
    from models import Deal as DealRow

    anna, _boris, _olga = people
    await lead(session, msk(2, 9), who=anna, status=LeadStatus.TARGET)
    await lead(session, msk(2, 10), who=anna, status=LeadStatus.SPAM)
    await lead(session, msk(2, 11), who=anna, status=LeadStatus.TARGET, source="whatsapp")
    await session.flush()
    leads = (await session.execute(sa.select(Lead).order_by(Lead.id))).scalars().all()
    leads[0].utm_campaign = leads[1].utm_campaign = "okna-zima"
    await deal(
        session, anna, created=msk(2, 12), amount=80_000, status=DealStatus.WON, closed=msk(2, 15)
    )
    await deal(session, anna, created=msk(2, 12), amount=10_000)
    await session.flush()
    deals = (await session.execute(sa.select(DealRow).order_by(DealRow.id))).scalars().all()
    deals[0].lead_id, deals[1].lead_id = leads[0].id, leads[2].id
    await session.flush()
    rows = await reports.sources_report(session, reports.Period(DAY, DAY, MSK), reports.Scope())
    assert [
        (r.source, r.campaign, r.leads, r.target_share, r.deals, r.won, r.revenue) for r in rows
    ] == [
        ("form:site", "okna-zima", 2, 50, 1, 1, Decimal(80_000)),
        ("whatsapp", None, 1, 100, 1, 0, Decimal(0)),
    ]


async def test_the_funnel_counts_stages_reached_conversion_and_time_in_stage(session, people):
    from datetime import timedelta

    from models import Deal as DealRow
    from models import DealStageChange, PipelineStage, StageKind
    from services.deals import pipeline

    anna, _boris, _olga = people
    pipeline_id = await pipeline.default_pipeline_id(session)
    stages = (
        (
            await session.execute(
                sa.select(PipelineStage)
                .where(PipelineStage.pipeline_id == pipeline_id)
                .order_by(PipelineStage.position)
            )
        )
        .scalars()
        .all()
    )
    first, talks = stages[1], stages[2]
    won = next(s for s in stages if s.kind is StageKind.WON)
    lost = next(s for s in stages if s.kind is StageKind.LOST)
    start = msk(2, 10)
    for _ in range(3):
        await deal(session, anna, created=start, amount=1_000)
    await session.flush()
    d1, d2, d3 = (await session.execute(sa.select(DealRow).order_by(DealRow.id))).scalars().all()
    moves = [
        (d1, first, talks, start + timedelta(hours=2)),
        (d1, talks, won, start + timedelta(hours=2, days=1)),
        (d3, first, lost, start + timedelta(hours=3)),
    ]
    for d, src, dst, at in moves:
        session.add(DealStageChange(deal_id=d.id, from_stage_id=src.id, to_stage_id=dst.id, at=at))
        d.stage_id = dst.id
    d1.status, d3.status = DealStatus.WON, DealStatus.LOST
    await session.flush()
    rows = {
        r.name: r
        for r in (
            await reports.funnel(session, reports.Period(DAY, DAY, MSK), reports.Scope())
        ).stages
    }
    assert (rows[first.name].reached, rows[talks.name].reached, rows[won.name].reached) == (3, 1, 1)
    assert rows[talks.name].conversion == 33 and rows[won.name].conversion == 100
    assert rows[lost.name].reached == 1
    assert rows[first.name].average_seconds == int(2.5 * 3600)
    assert rows[talks.name].average_seconds == 24 * 3600
    assert d2.stage_id == first.id  # still there: no stay ended, nothing averaged from it


async def test_the_funnel_of_another_pipeline_counts_its_own_deals(session, people):
    from tests.report_data import second_pipeline

    anna, _boris, _olga = people
    service = await second_pipeline(session)
    at = msk(2, 10)
    await deal(session, anna, created=at, amount=1_000)  # the default pipeline's
    await deal(session, anna, created=at, amount=2_000, pipeline_id=service)
    await deal(
        session,
        anna,
        created=at,
        amount=3_000,
        pipeline_id=service,
        status=DealStatus.WON,
        closed=at + timedelta(hours=5),
    )
    await session.flush()
    period, scope = reports.Period(DAY, DAY, MSK), reports.Scope()

    default = await reports.funnel(session, period, scope)
    assert [name for _id, name in default.pipelines][1:] == ["Сервис"]  # the default first
    assert default.pipeline_id == default.pipelines[0][0]
    assert sum(r.reached for r in default.stages if r.kind is StageKind.WON) == 0
    assert default.stages[0].reached == 1

    shown = await reports.funnel(session, period, scope, service)
    assert shown.name == "Сервис"
    assert [(r.name, r.reached, r.conversion) for r in shown.stages] == [
        ("Заявка", 2, None),
        ("Выезд", 2, 100),
        ("Сделано", 1, 50),
        ("Отказ", 0, None),
    ]
    gone = await reports.funnel(session, period, scope, 10**9)  # a pipeline since removed
    assert gone.pipeline_id == default.pipeline_id


async def test_a_missed_call_to_an_offices_own_line_is_that_offices(session, people):
    from models import Call as CallRow
    from models import PhoneLine

    anna, _boris, _olga = people
    line = PhoneLine(number="+74950000001", name="Центр, общий", office_id=anna.office_id)
    session.add(line)
    await session.flush()
    call(session, msk(2, 11), Direction.IN, CallStatus.MISSED, number="+79120000077")
    await session.flush()
    row = (await session.execute(sa.select(CallRow))).scalar_one()
    row.line_id = line.id  # nobody picked up the office's number
    await session.flush()
    period = reports.Period(DAY, DAY, MSK)
    office = await reports.manager_report(session, period, reports.Scope(office_id=anna.office_id))
    assert (office.total.missed, office.total.missed_not_called_back) == (1, 1)
    listed = await reports.lists.missed_calls(
        session, period, reports.Scope(office_id=anna.office_id)
    )
    assert [c.number for c in listed] == ["+79120000077"]
