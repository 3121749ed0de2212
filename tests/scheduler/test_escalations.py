"""Escalations reach the office's manager once per occurrence, across runs and processes,
counted in working time where the issue says so, and not at all when dealt with meanwhile."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from models import Deal, Role, Task, Ticket, TicketStatus, WorkSchedule
from scheduler import jobs
from services import escalations
from tests import factories
from tests.chat import Chat, drain
from tests.report_data import MSK, deal, lead

FRIDAY = datetime(2026, 12, 4, 17, 55, tzinfo=MSK).astimezone(UTC)


async def tick(container) -> str:
    return await jobs.run(jobs.by_name("escalate"), container.db, container.company)


async def _office(container, clock):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
    return boss, anna, admin


async def test_an_overdue_task_reaches_the_manager_once(container, fake_tg, clock):
    clock.set(FRIDAY)
    boss, anna, admin = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        s.add(Task(title="Перезвонить Ивану", assignee_id=anna.id, due_at=FRIDAY))
    clock.advance(minutes=59)
    await tick(container)
    clock.advance(minutes=2)
    await tick(container)
    await asyncio.gather(tick(container), tick(container))  # two schedulers at once
    await drain(container)
    chat = Chat(container, fake_tg, boss)
    [message] = chat.messages
    assert message["text"] == "⏰ Задача просрочена на 1 час 1 минута: «Перезвонить Ивану» · Анна"
    assert "Открыть задачу" in str(message["reply_markup"])
    assert Chat(container, fake_tg, admin).messages == []  # the office has its manager
    await chat.press("Открыть задачу")
    assert "Перезвонить Ивану" in chat.text


async def test_a_lead_waits_in_working_time_and_goes_to_the_admins_without_a_manager(
    container, fake_tg, clock
):
    clock.set(FRIDAY)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Север")
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        for day in range(5):
            s.add(
                WorkSchedule(employee_id=anna.id, weekday=day, starts_at=time(9), ends_at=time(18))
            )
        await lead(s, FRIDAY, who=anna)
    clock.advance(minutes=40)  # Friday 18:35: 5 working minutes
    await tick(container)
    clock.set(datetime(2026, 12, 7, 9, 9, tzinfo=MSK).astimezone(UTC))  # Monday: 14 of them
    await tick(container)
    assert await _rows(container) == 0
    clock.advance(minutes=2)  # 16 working minutes
    await tick(container)
    await drain(container)
    [message] = Chat(container, fake_tg, admin).messages
    assert "Лид ждёт первого ответа 16 минут рабочего времени" in message["text"]


async def test_a_quiet_deal_and_a_ticket_unanswered_and_one_answered_meanwhile(
    container, fake_tg, clock
):
    clock.set(FRIDAY)
    boss, anna, _admin = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        await deal(s, anna, created=FRIDAY, amount=10_000)
        s.add(Ticket(author_id=anna.id, category="Оплата", subject="Не проходит оплата"))
        s.add(Ticket(author_id=anna.id, category="Доступы", subject="Нет доступа к CRM"))
    # the tickets were written at the real time: put them at Friday's
    async with container.db.unit_of_work() as s:
        await s.execute(sa.update(Ticket).values(created_at=FRIDAY, updated_at=FRIDAY))
    clock.advance(hours=3, minutes=1)
    await tick(container)
    async with container.db.unit_of_work() as s:  # one ticket is answered before it goes out
        answered = (
            await s.execute(sa.select(Ticket).where(Ticket.subject == "Нет доступа к CRM"))
        ).scalar_one()
        answered.status = TicketStatus.ANSWERED
    await drain(container)
    clock.advance(days=7)
    await tick(container)
    await drain(container)
    texts = [m["text"] for m in Chat(container, fake_tg, boss).messages]
    assert texts == [
        "🆘 Заявка без ответа 3 часа 1 минута: «Не проходит оплата» · Оплата · Анна",
        "🐢 Сделка без движения 7 дней на этапе «Первичный контакт»: «Окна» · Анна",
    ]
    await tick(container)
    assert await _rows(container) == 3  # nothing new: the same occurrences

    async with container.db.unit_of_work() as s:  # the deal moves, then stalls again
        found = (await s.execute(sa.select(Deal))).scalar_one()
        found.amount, found.updated_at = Decimal(12_000), clock.now()
    clock.advance(days=7, minutes=1)
    await tick(container)
    assert await _rows(container, "deal") == 2


async def _rows(container, kind: str | None = None) -> int:
    from models import OutboxMessage

    async with container.db.unit_of_work() as s:
        stmt = sa.select(sa.func.count()).where(OutboxMessage.kind == escalations.ESCALATION)
        if kind:
            stmt = stmt.where(OutboxMessage.entity_type == kind)
        return (await s.execute(stmt)).scalar_one()


async def test_items_told_already_never_fill_a_runs_batch(container, fake_tg, clock, monkeypatch):
    monkeypatch.setattr(escalations, "BATCH", 2)
    clock.set(FRIDAY)
    _boss, anna, _admin = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        for n in range(3):
            s.add(
                Task(title=f"Задача {n}", assignee_id=anna.id, due_at=FRIDAY + timedelta(minutes=n))
            )
    clock.advance(hours=2)
    await tick(container)
    await tick(container)  # the two oldest were told: the third fits now
    assert await _rows(container, "task") == 3
