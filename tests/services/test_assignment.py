"""Who gets a new lead: owner, then whoever is on duty by schedule, then the office manager."""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa

from models import OutboxMessage, Role
from services import assignment, leads, schedules
from services.assignment import Reason, Shift, is_on_duty
from tests import factories
from tests.conftest import MSK


def lead(phone: str) -> leads.LeadIn:
    return leads.LeadIn(source="form:site", phone=phone)


async def test_round_robin_takes_turns_among_those_on_duty(session, company, clock):
    people = [
        await factories.employee(session, clock, name=n, shifts=factories.WEEKDAYS_9_TO_18)
        for n in ("Анна", "Борис", "Вера")
    ]
    got = []
    for i in range(6):
        clock.advance(seconds=1)
        got.append(
            (
                await leads.register_incoming(session, lead(f"+7912000110{i}"), company=company)
            ).assignee_id
        )
    assert sorted(got[:3]) == sorted(p.id for p in people)  # each in turn, then again
    assert got[3:] == got[:3]


async def test_at_night_the_lead_goes_to_the_office_manager(session, company, clock):
    await factories.employee(
        session, clock, name="Анна", office="Москва", shifts=factories.WEEKDAYS_9_TO_18
    )
    boss = await factories.employee(session, clock, name="Вера", office="Москва", role=Role.MANAGER)
    clock.set(datetime(2025, 12, 2, 23, 30, tzinfo=MSK))  # Tuesday night
    result = await leads.register_incoming(session, lead("+79120001122"), company=company)
    assert (result.assignee_id, result.reason) == (boss.id, Reason.OFFICE_MANAGER)


async def test_on_a_weekend_only_the_weekend_shift_is_on_duty(session, company, clock):
    await factories.employee(session, clock, name="Анна", shifts=factories.WEEKDAYS_9_TO_18)
    weekend = await factories.employee(
        session, clock, name="Борис", shifts=[(5, "10:00", "16:00"), (6, "10:00", "16:00")]
    )
    clock.set(datetime(2025, 12, 6, 12, 0, tzinfo=MSK))  # Saturday noon
    result = await leads.register_incoming(session, lead("+79120001122"), company=company)
    assert (result.assignee_id, result.reason) == (weekend.id, Reason.ON_DUTY)


async def test_schedules_are_read_in_the_company_time_zone(session, company, clock):
    anna = await factories.employee(session, clock, shifts=factories.WEEKDAYS_9_TO_18)
    # 06:30 UTC is 09:30 in Moscow: on duty, although it is before nine in UTC.
    clock.set(datetime(2025, 12, 1, 6, 30, tzinfo=UTC))
    result = await leads.register_incoming(session, lead("+79120001122"), company=company)
    assert result.assignee_id == anna.id


async def test_nobody_at_all_leaves_the_lead_unassigned_and_tells_the_admins(
    session, company, clock
):
    await factories.employee(session, clock, name="Анна", shifts=factories.WEEKDAYS_9_TO_18)
    admin = await factories.employee(session, clock, name="Админ", role=Role.ADMIN)
    clock.set(datetime(2025, 12, 7, 3, 0, tzinfo=MSK))  # Sunday 3 a.m.
    result = await leads.register_incoming(session, lead("+79120001122"), company=company)
    assert (result.assignee_id, result.reason) == (None, Reason.NOBODY)
    rows = (await session.execute(sa.select(OutboxMessage))).scalars().all()
    assert [(r.recipient, r.payload["unassigned"]) for r in rows] == [
        (str(admin.telegram_id), True)
    ]


async def test_employees_off_shift_or_without_telegram_get_no_leads(session, company, clock):
    away = await factories.employee(session, clock, name="Анна")
    away.on_shift = False
    await factories.employee(session, clock, name="Борис", telegram=False)
    here = await factories.employee(session, clock, name="Вера")
    result = await leads.register_incoming(session, lead("+79120001122"), company=company)
    assert result.assignee_id == here.id


def test_an_overnight_shift_covers_both_sides_of_midnight() -> None:
    night = [Shift(4, time(20, 0), time(8, 0))]  # Friday 20:00 → Saturday 08:00
    assert is_on_duty(night, datetime(2025, 12, 5, 23, 0))  # Friday 23:00
    assert is_on_duty(night, datetime(2025, 12, 6, 7, 59))  # Saturday 07:59
    assert not is_on_duty(night, datetime(2025, 12, 6, 8, 0))  # Saturday 08:00
    assert not is_on_duty(night, datetime(2025, 12, 4, 23, 0))  # Thursday 23:00


def test_shift_boundaries_start_inclusive_end_exclusive() -> None:
    day = [Shift(0, time(9, 0), time(18, 0))]
    assert is_on_duty(day, datetime(2025, 12, 1, 9, 0))
    assert not is_on_duty(day, datetime(2025, 12, 1, 18, 0))
    assert not is_on_duty(day, datetime(2025, 12, 1, 8, 59))
    assert assignment.is_on_duty([], datetime(2025, 12, 7, 3, 0))


async def test_a_real_week_weekdays_a_saturday_morning_and_a_24_hour_sunday(
    session, company, clock
):
    anna = await factories.employee(session, clock, name="Анна")
    weekdays = schedules.shifts_for(
        schedules.parse_days("mon-fri"), schedules.parse_time("9:00"), schedules.parse_time("18:00")
    )
    await schedules.replace(session, anna.id, weekdays, now=clock.now())
    saturday = schedules.shifts_for(
        [5], schedules.parse_time("10:00"), schedules.parse_time("14:00")
    )
    sunday = schedules.shifts_for(
        [6], schedules.parse_time("00:00"), schedules.parse_time("24:00", end=True)
    )
    await schedules.add(session, anna.id, saturday + sunday, now=clock.now())
    expected = {
        datetime(2025, 12, 5, 17, 59, tzinfo=MSK): anna.id,  # Friday before six
        datetime(2025, 12, 6, 12, 0, tzinfo=MSK): anna.id,  # Saturday noon
        datetime(2025, 12, 6, 15, 0, tzinfo=MSK): None,  # Saturday afternoon
        datetime(2025, 12, 7, 0, 0, tzinfo=MSK): anna.id,  # all of Sunday
        datetime(2025, 12, 7, 23, 59, tzinfo=MSK): anna.id,
        datetime(2025, 12, 8, 8, 0, tzinfo=MSK): None,  # Monday before nine
    }
    for n, (moment, who) in enumerate(expected.items()):
        clock.set(moment)
        result = await leads.register_incoming(session, lead(f"+791200011{n:02d}"), company=company)
        assert result.assignee_id == who, moment


def test_a_24_hour_shift_from_eight_runs_to_eight_the_next_morning() -> None:
    duty = [Shift(0, time(8, 0), time(8, 0))]  # Monday 08:00 → Tuesday 08:00
    assert is_on_duty(duty, datetime(2025, 12, 1, 8, 0))
    assert is_on_duty(duty, datetime(2025, 12, 2, 7, 59))
    assert not is_on_duty(duty, datetime(2025, 12, 2, 8, 0))
    assert not is_on_duty(duty, datetime(2025, 12, 1, 7, 59))
