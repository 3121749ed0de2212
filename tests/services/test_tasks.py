"""Tasks set by people: who may set, close, snooze, reassign and comment on them, and the lists
an employee and a manager work from."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Employee, Note, OutboxMessage, Role, TaskStatus
from services import tasks
from services.actors import Actor
from services.errors import AccessDenied, Conflict, InvalidInput
from services.tasks import TaskView
from tests import factories
from tests.conftest import MSK


async def _people(s, clock):  # type: ignore[no-untyped-def]
    anna = await factories.employee(s, clock, name="Анна", office="Центр")
    boris = await factories.employee(s, clock, name="Борис", office="Центр")
    olga = await factories.employee(s, clock, name="Ольга", role=Role.MANAGER, office="Центр")
    far = await factories.employee(s, clock, name="Пётр", office="Север")
    return Actor.of(anna), Actor.of(boris), Actor.of(olga), Actor.of(far)


async def test_a_task_is_set_for_oneself_and_a_manager_sets_one_for_the_office(
    session, clock, company
):
    anna, boris, olga, far = await _people(session, clock)
    due = clock.now() + timedelta(hours=2)
    own = await tasks.create(
        session,
        title="  Позвонить   клиенту ",
        due_at=due,
        assignee_id=anna.id,
        by=anna,
        company=company,
    )
    given = await tasks.create(
        session, title="Отчёт", due_at=due, assignee_id=boris.id, by=olga, company=company
    )
    assert own.title == "Позвонить клиенту" and own.remind_at == due
    assert given.assignee_id == boris.id
    with pytest.raises(AccessDenied):  # an employee does not set tasks for colleagues
        await tasks.create(
            session, title="x", due_at=due, assignee_id=boris.id, by=anna, company=company
        )
    with pytest.raises(AccessDenied):  # a manager: not for another office
        await tasks.create(
            session, title="x", due_at=due, assignee_id=far.id, by=olga, company=company
        )
    cards = (
        await session.execute(
            sa.select(OutboxMessage.entity_id, Employee.name).join(
                Employee, sa.cast(Employee.telegram_id, sa.String) == OutboxMessage.recipient
            )
        )
    ).all()
    # Boris hears of the task Olga set; Anna set her own and is not told of it.
    assert [tuple(row) for row in cards] == [(given.id, "Борис")]


async def test_a_due_time_in_the_past_or_an_empty_title_is_refused(session, clock, company):
    anna, *_ = await _people(session, clock)
    with pytest.raises(InvalidInput) as past:
        await tasks.create(
            session,
            title="x",
            due_at=clock.now() - timedelta(minutes=1),
            assignee_id=anna.id,
            by=anna,
            company=company,
        )
    assert past.value.key == "task.error.past"
    with pytest.raises(InvalidInput) as empty:
        await tasks.create(
            session,
            title="   ",
            due_at=clock.now() + timedelta(hours=1),
            assignee_id=anna.id,
            by=anna,
            company=company,
        )
    assert empty.value.key == "task.error.no_title"


async def test_a_warning_comes_first_then_the_due_time(session, clock, company):
    anna, *_ = await _people(session, clock)
    due = clock.now() + timedelta(hours=1)
    task = await tasks.create(
        session,
        title="Встреча",
        due_at=due,
        assignee_id=anna.id,
        by=anna,
        company=company,
        warn_minutes=15,
    )
    assert task.remind_at == due - timedelta(minutes=15)
    late = await tasks.create(  # a warning that would be in the past: the due time only
        session,
        title="Скоро",
        due_at=clock.now() + timedelta(minutes=5),
        assignee_id=anna.id,
        by=anna,
        company=company,
        warn_minutes=15,
    )
    assert late.remind_at == late.due_at


async def test_someone_elses_task_cannot_be_closed_snoozed_or_commented(session, clock, company):
    anna, boris, olga, far = await _people(session, clock)
    task = await tasks.create(
        session,
        title="Звонок",
        due_at=clock.now() + timedelta(hours=1),
        assignee_id=anna.id,
        by=anna,
        company=company,
    )
    later = clock.now() + timedelta(hours=3)
    for attempt in (
        tasks.complete(session, task.id, by=boris, company=company),
        tasks.snooze(session, task.id, later, by=boris, company=company),
        tasks.comment(session, task.id, "моё", by=far, company=company),
    ):
        with pytest.raises(AccessDenied):
            await attempt
    with pytest.raises(AccessDenied):  # reassigning is for managers
        await tasks.reassign(session, task.id, boris.id, by=anna, company=company)
    done = await tasks.complete(session, task.id, by=olga, company=company)  # her manager may
    assert done.status is TaskStatus.DONE and done.remind_at is None
    with pytest.raises(Conflict):
        await tasks.snooze(session, task.id, later, by=anna, company=company)


async def test_snooze_moves_the_reminder_and_keeps_the_due_time(session, clock, company):
    anna, *_ = await _people(session, clock)
    due = clock.now() + timedelta(minutes=30)
    task = await tasks.create(
        session, title="Звонок", due_at=due, assignee_id=anna.id, by=anna, company=company
    )
    until = clock.now() + timedelta(hours=2)
    await tasks.snooze(session, task.id, until, by=anna, company=company)
    assert (task.remind_at, task.snoozed_until, task.due_at) == (until, until, due)
    with pytest.raises(InvalidInput):
        await tasks.snooze(session, task.id, clock.now(), by=anna, company=company)


async def test_a_manager_reassigns_and_a_comment_is_a_note(session, clock, company):
    anna, boris, olga, _far = await _people(session, clock)
    task = await tasks.create(
        session,
        title="Договор",
        due_at=clock.now() + timedelta(hours=1),
        assignee_id=anna.id,
        by=anna,
        company=company,
    )
    await tasks.reassign(session, task.id, boris.id, by=olga, company=company)
    assert task.assignee_id == boris.id
    await tasks.comment(session, task.id, "Клиент просил после обеда", by=boris, company=company)
    with pytest.raises(AccessDenied):  # Anna no longer has it
        await tasks.comment(session, task.id, "я тоже", by=anna, company=company)
    card = await tasks.card(session, task.id)
    assert card.assignee == "Борис"
    assert [(c.author, c.text) for c in card.comments] == [("Борис", "Клиент просил после обеда")]
    assert await factories.count(session, Note) == 1


async def test_lists_today_overdue_this_week_and_the_offices_overdue(session, clock, company):
    # The clock: Monday 10:00 in Moscow.
    anna, boris, olga, far = await _people(session, clock)
    now = clock.now()
    plan = {
        "вчерашняя": (anna, -timedelta(hours=20)),
        "утренняя": (anna, -timedelta(hours=1)),
        "вечерняя": (anna, timedelta(hours=8)),
        "в среду": (anna, timedelta(days=2)),
        "в следующий понедельник": (anna, timedelta(days=7)),
        "Бориса": (boris, -timedelta(hours=3)),
        "Петра": (far, -timedelta(hours=3)),
    }
    clock.set(now - timedelta(days=2))  # set them earlier, so "overdue" ones can exist
    for title, (who, offset) in plan.items():
        await tasks.create(
            session,
            title=title,
            due_at=now + offset,
            assignee_id=who.id,
            by=None,
            company=company,
        )
    clock.set(now)
    done = await tasks.create(
        session,
        title="сделанная",
        due_at=now + timedelta(hours=1),
        assignee_id=anna.id,
        by=anna,
        company=company,
    )
    await tasks.complete(session, done.id, by=anna, company=company)

    async def titles(view: TaskView, by: Actor) -> list[str]:
        page = await tasks.page_of(session, view, by=by, now=now, tz=MSK)
        assert page.total == len(page.items)
        return [item.title for item in page.items]

    assert await titles(TaskView.TODAY, anna) == ["утренняя", "вечерняя"]
    assert await titles(TaskView.OVERDUE, anna) == ["вчерашняя", "утренняя"]
    assert await titles(TaskView.WEEK, anna) == ["утренняя", "вечерняя", "в среду"]
    assert await titles(TaskView.OFFICE_OVERDUE, olga) == ["вчерашняя", "Бориса", "утренняя"]
    with pytest.raises(AccessDenied):
        await titles(TaskView.OFFICE_OVERDUE, anna)
