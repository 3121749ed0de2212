"""/tasks in the bot: today, overdue and this week's tasks, a button each that opens the card;
a manager also sees the office's overdue tasks, an employee does not get that button."""

from __future__ import annotations

from datetime import timedelta

from models import Role
from services import tasks
from tests import factories
from tests.chat import Chat, labels


async def _set(container, clock, who, title, offset):  # type: ignore[no-untyped-def]
    async with container.db.unit_of_work() as s:
        await tasks.create(
            s,
            title=title,
            due_at=clock.now() + offset,
            assignee_id=who.id,
            by=None,
            company=container.company,
        )


async def test_tasks_lists_today_overdue_and_opens_a_card(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        olga = await factories.employee(s, clock, name="Ольга", role=Role.MANAGER, office="Центр")
    start = clock.now()  # Monday 10:00 in Moscow
    clock.set(start - timedelta(days=1))
    await _set(container, clock, anna, "Просроченный звонок", timedelta(hours=20))
    clock.set(start)
    await _set(container, clock, anna, "Вечерний звонок", timedelta(hours=8))
    await _set(container, clock, anna, "В среду", timedelta(days=2))
    chat = Chat(container, fake_tg, anna)
    await chat.say("/tasks")
    assert "Задачи на сегодня: 2" in chat.text
    first, second = labels(chat.last)[:2]  # soonest due first, with the day and time
    assert first.startswith("1 дек") and first.endswith("06:00 · Просроченный звонок")
    assert second.startswith("1 дек") and second.endswith("18:00 · Вечерний звонок")
    assert "Офис: просроченные" not in labels(chat.last)
    assert labels(chat.last)[-1] == "➕ Новая задача"
    await chat.press("Неделя")
    assert "Задачи на неделю: 3" in chat.text
    await chat.press("Просроченные")
    assert "Просроченные: 1" in chat.text
    await chat.press("Просроченный звонок")
    assert "Просроченный звонок" in chat.text and "просрочена" in chat.text
    assert "✅ Готово" in labels(chat.last)
    manager = Chat(container, fake_tg, olga)
    await manager.say("/tasks")
    assert "Задач нет" in manager.text
    await manager.press("Офис: просроченные")
    assert "Просроченные задачи офиса: 1" in manager.text
    assert labels(manager.last)[0].endswith("06:00 · Анна · Просроченный звонок")
    await manager.press("Новая задача")
    assert "Что нужно сделать?" in manager.text
