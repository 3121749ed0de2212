"""A long period's report reads its settled months from the roll-up and must say exactly what
counting every row says, before and after old facts change (a status, a reassignment, a deal
reopened or won, a late call back, a stage move, a call deleted, a stage renamed): the
triggers mark those days and the months around them are counted again."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from models import (
    Call,
    CallStatus,
    Deal,
    DealStageChange,
    DealStatus,
    Direction,
    Lead,
    LeadStatus,
    PhoneLine,
    PipelineStage,
    ReportChange,
    ReportRollup,
    ReportRollupMonth,
    StageKind,
)
from services import reports
from services.deals import pipeline
from services.reports import rollup
from tests.report_data import MSK, call, deal, lead, second_pipeline, staff

YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")
START = datetime(2025, 10, 20, tzinfo=UTC)  # the generated history: fourteen months
SPAN = timedelta(days=400)
PERIOD = reports.Period(date(2025, 11, 15), date(2026, 11, 14), MSK)  # 11 whole months


def _now() -> datetime:
    """The real clock: the triggers compare with the database's."""
    return datetime.now(UTC)


@pytest.fixture
async def people(session, clock):
    return await staff(session, clock)


async def _history(session, people, rnd: random.Random) -> None:
    anna, boris, olga = people
    line = PhoneLine(number="+74950000009", name="Реклама", office_id=anna.office_id)
    session.add(line)
    service = await second_pipeline(session)
    default = await pipeline.default_pipeline_id(session)
    await session.flush()

    def moment() -> datetime:
        return START + timedelta(seconds=rnd.randrange(int(SPAN.total_seconds())))

    responses = [None, 0, 29, 30, 31, 89, 90, 150, 3_599, 7_200, 172_770, 200_000]
    for _ in range(160):
        who = rnd.choice([anna, boris, olga, None])
        await lead(
            session,
            moment(),
            who=who,
            status=rnd.choice(list(LeadStatus)),
            source=rnd.choice(["form:site", "whatsapp", "call"]),
            response=rnd.choice(responses),
            office=rnd.choice([None, None, olga.office_id]) if who else None,
        )
    await session.flush()
    leads = list((await session.execute(sa.select(Lead))).scalars())
    for row in leads:
        row.utm_campaign = rnd.choice([None, "осень", "зима"])
        row.line_id = rnd.choice([None, line.id])
    numbers = [f"+7912000000{i}" for i in range(4)]
    for _ in range(90):
        at = moment()
        status = rnd.choice([CallStatus.MISSED, CallStatus.ANSWERED])
        number = rnd.choice(numbers)
        call(
            session,
            at,
            Direction.IN,
            status,
            who=rnd.choice([anna, boris, olga, None]),
            number=number,
        )
        if status is CallStatus.MISSED and rnd.random() < 0.5:  # called back, or too late
            later = at + timedelta(minutes=rnd.choice([5, 14, 16, 40]))
            call(session, later, Direction.OUT, CallStatus.ANSWERED, who=anna, number=number)
    for _ in range(70):
        created = moment()
        status = rnd.choice([DealStatus.OPEN, DealStatus.WON, DealStatus.LOST])
        closed = (
            created + timedelta(days=rnd.randrange(0, 40))
            if status is not DealStatus.OPEN
            else None
        )
        await deal(
            session,
            rnd.choice([anna, boris, olga]),
            created=created,
            amount=rnd.choice([None, 1_000, 25_500]),
            status=status,
            closed=closed,
            cost=rnd.choice([None, 300]),
            reason=rnd.choice(["price", "other: дорого", None])
            if status is DealStatus.LOST
            else None,
            pipeline_id=rnd.choice([default, default, service]),
        )
    await session.flush()
    deals = list((await session.execute(sa.select(Deal))).scalars())
    for row in deals:
        row.lead_id = rnd.choice([None, rnd.choice(leads).id])
        stages = await pipeline.stages(session, row.pipeline_id)
        if row.status is DealStatus.LOST:
            row.stage_id = next(s.id for s in stages if s.kind.value == "lost")
        if rnd.random() < 0.5:
            to = rnd.choice(stages[2:4])
            at = row.created_at + timedelta(
                hours=rnd.randrange(1, 500), microseconds=rnd.randrange(10**6)
            )
            session.add(
                DealStageChange(
                    deal_id=row.id, from_stage_id=row.stage_id, to_stage_id=to.id, at=at
                )
            )
            if row.status is DealStatus.OPEN:
                row.stage_id = to.id
    await session.flush()


async def _all_reports(session, period, today):
    scopes = [reports.Scope(), reports.Scope(office_id=1), reports.Scope(employee_id=2)]
    found = []
    for scope in scopes:
        found.append(await reports.manager_report(session, period, scope, today=today))
        found.append(await reports.sources_report(session, period, scope, today=today))
        for pipeline_id, _name in await pipeline.pipelines(session):
            found.append(await reports.funnel(session, period, scope, pipeline_id, today=today))
    return found


async def _same_as_counting_every_row(session, period=PERIOD):
    rolled = await _all_reports(session, period, _now())
    counted = await _all_reports(session, period, None)  # no `today`: nothing rolled up
    for a, b in zip(rolled, counted, strict=True):
        assert a == b
    return rolled


async def _as_python_counts(session, total) -> None:
    """A few of the year's numbers counted in Python from the rows themselves: a check that
    does not go through the report's own selects."""
    start, end = PERIOD.start, PERIOD.end
    leads = [r for r in (await session.execute(sa.select(Lead))).scalars()]
    inside = [r for r in leads if start <= r.created_at < end]
    by_status: dict[str, int] = {}
    for r in inside:
        by_status[str(r.status)] = by_status.get(str(r.status), 0) + 1
    assert total.leads == by_status
    deals = [r for r in (await session.execute(sa.select(Deal))).scalars()]
    won = [
        r
        for r in deals
        if r.status is DealStatus.WON and r.closed_at and start <= r.closed_at < end
    ]
    assert (total.won, total.won_sum) == (len(won), sum((r.amount or 0) for r in won))
    calls = [r for r in (await session.execute(sa.select(Call))).scalars()]
    missed = [
        r
        for r in calls
        if r.status is CallStatus.MISSED
        and r.direction is Direction.IN
        and start <= r.started_at < end
    ]
    assert total.missed == len(missed)
    times = sorted(
        response_minutes(r.first_response_work_seconds)
        for r in inside
        if r.first_response_work_seconds is not None
    )
    assert total.response_median == times[(len(times) + 1) // 2 - 1]
    assert total.response_p90 == times[(9 * len(times) + 9) // 10 - 1]


def response_minutes(seconds: int) -> int:
    """bot/telegram/report_screens.duration's precision, in seconds."""
    minutes = max((seconds + 30) // 60, 1) if seconds else 0
    return ((minutes + 720) // 1440) * 86400 if minutes >= 2880 else minutes * 60


async def _changes(session, people, rnd: random.Random) -> None:
    _anna, boris, olga = people
    leads = list((await session.execute(sa.select(Lead).order_by(Lead.id))).scalars())
    for row in rnd.sample(leads, 12):
        row.status = rnd.choice(list(LeadStatus))
    for row in rnd.sample(leads, 6):
        row.assignee_id, row.office_id = olga.id, None
    deals = list((await session.execute(sa.select(Deal).order_by(Deal.id))).scalars())
    won = [d for d in deals if d.status is DealStatus.WON]
    for row in won[:3]:  # reopened
        row.status, row.closed_at = DealStatus.OPEN, None
    for row in [d for d in deals if d.status is DealStatus.OPEN][:3]:  # won back then
        row.status, row.closed_at = DealStatus.WON, row.created_at + timedelta(days=20)
    missed = (
        await session.execute(
            sa.select(Call).where(Call.status == CallStatus.MISSED).order_by(Call.id).limit(3)
        )
    ).scalars()
    for row in missed:  # a call back written late, at the moment it happened
        call(
            session,
            row.started_at + timedelta(minutes=3),
            Direction.OUT,
            CallStatus.ANSWERED,
            who=boris,
            number=row.client_number,
        )
    some = deals[5]
    stages = await pipeline.stages(session, some.pipeline_id)
    session.add(
        DealStageChange(
            deal_id=some.id,
            from_stage_id=some.stage_id,
            to_stage_id=stages[4].id,
            at=some.created_at + timedelta(days=2),
        )
    )
    gone = (await session.execute(sa.select(Call).order_by(Call.id).limit(1))).scalar_one()
    await session.delete(gone)
    await session.flush()


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_year_read_from_the_roll_up_is_what_counting_every_row_says(session, people, seed):
    rnd = random.Random(seed)
    await _history(session, people, rnd)
    split = await rollup.split(session, PERIOD, _now())
    # November 2025 mostly in: rolled up, less its first fortnight; November 2026 mostly out
    assert split.months[0] == date(2025, 11, 1) and len(split.months) == 12
    assert [(p.first, p.last) for p in split.less] == [(date(2025, 11, 1), date(2025, 11, 14))]
    assert [(p.first, p.last) for p in split.rest] == [(date(2026, 11, 1), date(2026, 11, 14))]
    shown = await _same_as_counting_every_row(session)
    assert shown[0].total.lead_count > 50 and shown[0].total.responded > 10  # not all zeros
    await _as_python_counts(session, shown[0].total)
    assert await session.scalar(sa.select(sa.func.count()).select_from(ReportRollup)) > 0

    await _changes(session, people, rnd)
    assert await session.scalar(sa.select(sa.func.count()).select_from(ReportChange)) > 0
    again = await _same_as_counting_every_row(session)
    assert again[0] != shown[0]  # the changes show
    await _as_python_counts(session, again[0].total)
    assert await session.scalar(sa.select(sa.func.count()).select_from(ReportChange)) == 0

    await session.execute(  # a stage renamed: every month is counted again
        sa.update(PipelineStage).where(PipelineStage.id == 2).values(name="Первый звонок")
    )
    marked = set((await session.execute(sa.select(ReportChange.day))).scalars())
    assert marked == {rollup.EVERYTHING}
    await _same_as_counting_every_row(session)
    assert not (await session.execute(sa.select(ReportChange.day))).scalars().all()


async def test_each_zone_has_its_own_months(session, people):
    await _history(session, people, random.Random(3))
    await _same_as_counting_every_row(session)
    ural = reports.Period(PERIOD.first, PERIOD.last, YEKATERINBURG)
    await _same_as_counting_every_row(session, ural)
    zones = set((await session.execute(sa.select(ReportRollupMonth.zone))).scalars())
    assert zones == {"Europe/Moscow", "Asia/Yekaterinburg"}


async def test_only_settled_months_and_old_facts_count_for_the_roll_up(session, people):
    anna, _boris, _olga = people
    now = _now()
    await lead(session, now - timedelta(hours=1), who=anna)  # today's lead: nothing marked
    await session.flush()
    assert await session.scalar(sa.select(sa.func.count()).select_from(ReportChange)) == 0
    await lead(session, now - timedelta(days=5), who=anna)
    await session.flush()
    marked = (await session.execute(sa.select(ReportChange.day))).scalars().all()
    assert marked == [(now - timedelta(days=5)).date()]

    this_month = now.astimezone(MSK).date().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    period = reports.Period(last_month, this_month - timedelta(days=1), MSK)
    just_after = reports.Period(last_month, this_month, MSK).end  # a day after it ended
    assert (await rollup.split(session, period, just_after)).months == []  # not settled
    settled = await rollup.split(session, period, just_after + timedelta(days=3))
    if period.end <= now - rollup.SETTLED:  # by the database's clock too
        assert settled.months == [last_month]
    assert await rollup.split(session, period, None) == rollup.Split("Europe/Moscow", [], [period])


async def test_two_reports_rolling_up_the_same_months_at_once_write_them_once(db, clock):
    import asyncio

    async with db.unit_of_work() as s:
        people = await staff(s, clock)
        await _history(s, people, random.Random(4))

    async def report():
        async with db.unit_of_work() as s:
            return await reports.manager_report(s, PERIOD, reports.Scope(), today=_now())

    first, second = await asyncio.gather(report(), report())
    assert first == second
    async with db.unit_of_work() as s:
        months = await s.scalar(sa.select(sa.func.count()).select_from(ReportRollupMonth))
        rows = await s.scalar(sa.select(sa.func.count()).select_from(ReportRollup))
        await s.execute(sa.delete(ReportRollupMonth))  # once more, alone
        await s.execute(sa.delete(ReportRollup))
    assert months == 12
    alone = await report()
    assert alone == first
    async with db.unit_of_work() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(ReportRollup)) == rows


async def test_the_scheduler_rolls_up_the_last_year_ahead_of_the_reports(db, clock):
    from scheduler import jobs
    from services.clock import FrozenClock
    from services.context import Company

    async with db.unit_of_work() as s:
        people = await staff(s, clock)
        await _history(s, people, random.Random(5))
    company = Company(timezone=MSK, clock=FrozenClock(_now()))
    said = await jobs.run(jobs.by_name("roll_up_reports"), db, company)  # two months a run
    assert said.endswith(" report months rolled up") and not said.startswith("0 ")
    async with db.unit_of_work() as s:
        months = set((await s.execute(sa.select(ReportRollupMonth.month))).scalars())
        assert len(months) >= 11  # the last year's settled months, each once
        assert await s.scalar(sa.select(sa.func.count()).select_from(ReportRollupMonth)) == len(
            months
        )
        lead_row = (await s.execute(sa.select(Lead).order_by(Lead.id).limit(1))).scalar_one()
        lead_row.status = LeadStatus.SPAM  # an old lead changes: its months are forgotten
    assert await jobs.run(jobs.by_name("roll_up_reports"), db, company) in {
        "1 report months rolled up",
        "2 report months rolled up",
        "3 report months rolled up",
    }
    async with db.unit_of_work() as s:
        assert len(set((await s.execute(sa.select(ReportRollupMonth.month))).scalars())) == len(
            months
        )
        await _same_as_counting_every_row(s)


def test_which_days_are_counted_rolled_up_or_taken_away():
    def shape(first, last, settled_until=date(2026, 10, 1)):
        found = rollup.plan(reports.Period(first, last, MSK), lambda m: m < settled_until)
        return (
            found.months,
            [(p.first, p.last) for p in found.rest],
            [(p.first, p.last) for p in found.less],
        )

    d = date
    assert shape(d(2026, 3, 5), d(2026, 3, 5)) == ([], [(d(2026, 3, 5), d(2026, 3, 5))], [])
    assert shape(d(2026, 3, 2), d(2026, 3, 30)) == (  # most of March: March less two days
        [d(2026, 3, 1)],
        [],
        [(d(2026, 3, 1), d(2026, 3, 1)), (d(2026, 3, 31), d(2026, 3, 31))],
    )
    assert shape(d(2026, 8, 20), d(2026, 10, 5)) == (  # October has not settled
        [d(2026, 9, 1)],
        [(d(2026, 8, 20), d(2026, 8, 31)), (d(2026, 10, 1), d(2026, 10, 5))],
        [],
    )
    assert shape(d(2025, 12, 6), d(2026, 12, 5), settled_until=d(2026, 12, 1)) == (
        [d(2025, 12, 1)] + [d(2026, m, 1) for m in range(1, 12)],
        [(d(2026, 12, 1), d(2026, 12, 5))],
        [(d(2025, 12, 1), d(2025, 12, 5))],
    )


async def test_every_table_a_report_counts_marks_its_old_days(session, people):
    """Written, changed (a counted column) and deleted, on both databases; an update of a
    column no report counts marks nothing. (A later SQLite batch migration that recreated one
    of these tables would lose its triggers: this says so.)"""
    from models import PipelineStage

    anna, boris, _olga = people
    old = _now() - timedelta(days=20)

    def day(days_before: int = 0, **more: float) -> date:
        return (old - timedelta(days=days_before, **more)).date()

    async def marked() -> set[date]:
        taken = sa.delete(ReportChange).returning(ReportChange.day)
        return set((await session.execute(taken)).scalars())

    await lead(session, old, who=anna)
    await lead(session, old - timedelta(days=3), who=anna)
    call(session, old - timedelta(days=1), Direction.IN, CallStatus.MISSED, who=anna)
    await session.flush()
    assert await marked() == {day(), day(3), day(1), day(1, minutes=15)}
    first, second = (await session.execute(sa.select(Lead).order_by(Lead.id))).scalars()
    first.updated_at = _now()  # nothing a report counts
    await session.flush()
    assert await marked() == set()
    first.assignee_id = boris.id
    await session.flush()
    assert await marked() == {day()}
    await deal(session, anna, created=old - timedelta(days=2), amount=5)
    await session.flush()
    assert await marked() == {day(2)}
    row = (await session.execute(sa.select(Deal))).scalar_one()
    row.lead_id = first.id
    await session.flush()
    assert await marked() == {day(2), day()}  # the deal's day, and its lead's
    row.lead_id = second.id
    await session.flush()
    assert await marked() == {day(2), day(), day(3)}  # the lead it left, the one it joined
    stages = await pipeline.stages(session, row.pipeline_id)
    move = DealStageChange(
        deal_id=row.id, from_stage_id=row.stage_id, to_stage_id=stages[2].id, at=old
    )
    session.add(move)
    await session.flush()
    assert await marked() == {day(2)}  # the deal's day
    move.at = old + timedelta(hours=1)
    await session.flush()
    assert await marked() == {day(2)}
    await session.delete(move)
    await session.flush()
    assert await marked() == {day(2)}
    row.status, row.closed_at = DealStatus.WON, old - timedelta(days=1)
    await session.flush()
    assert await marked() == {day(2), day(1), day(3)}
    await session.delete(row)
    await session.delete(second)
    await session.flush()
    assert {day(2), day(1), day(3)} <= await marked()
    gone = (await session.execute(sa.select(Call))).scalar_one()
    await session.delete(gone)
    await session.flush()
    assert await marked() == {day(1), day(1, minutes=15)}
    session.add(PipelineStage(pipeline_id=row.pipeline_id, name="Новый", position=99))
    await session.flush()
    assert await marked() == {rollup.EVERYTHING}  # stages changed: every month forgotten


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: one writer at once
async def test_a_stage_edited_while_months_roll_up_is_not_lost(db, clock):
    """PostgreSQL, read committed: the edit cannot see the months being claimed, so it marks
    everything instead of forgetting them itself; the next report counts them again."""
    async with db.unit_of_work() as s:
        people = await staff(s, clock)
        await _history(s, people, random.Random(6))
    async with db.unit_of_work() as rolling:
        await rollup.split(rolling, PERIOD, _now())  # claims the months, not committed yet
        async with db.unit_of_work() as admin:
            await admin.execute(
                sa.update(PipelineStage)
                .where(PipelineStage.id == 3)
                .values(kind=StageKind.LOST)  # the funnel counts it otherwise now
            )
    async with db.unit_of_work() as s:
        await _same_as_counting_every_row(s)
    async with db.unit_of_work() as s:  # put the seed back as it was
        await s.execute(
            sa.update(PipelineStage).where(PipelineStage.id == 3).values(kind=StageKind.OPEN)
        )
