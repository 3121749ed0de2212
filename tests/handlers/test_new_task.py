"""A new task from the bot: /task or the Task button on a client, lead or deal card; what to do,
then when (a quick choice, or typed and read back for a Yes; ambiguous typed times are asked).
Through the dispatcher and the outbox to the fake Bot API. The clock: Monday 1 Dec, 10:00 MSK."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from handlers.callbacks import ClientAction, ClientCallback, NewTaskCallback
from models import Task
from tests import factories
from tests import timeline_data as client_history
from tests.chat import Chat, labels
from tests.conftest import MSK


def seen(chat: Chat) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", chat.text))


@pytest.fixture
async def anna(container, clock):
    async with container.db.unit_of_work() as s:
        return await factories.employee(s, clock, name="Анна", office="Казань")


async def only_task(container) -> Task:  # type: ignore[no-untyped-def]
    async with container.db.unit_of_work() as s:
        [task] = (await s.execute(sa.select(Task))).scalars().all()
        return task


async def test_a_typed_time_is_read_back_and_set_on_yes(container, fake_tg, anna):
    chat = Chat(container, fake_tg, anna)
    await chat.say("/task")
    assert "Что нужно сделать?" in seen(chat)
    await chat.say("Позвонить Ивану")
    assert "Когда напомнить о «Позвонить Ивану»?" in seen(chat)
    assert labels(chat.last) == ["Через час", "Сегодня 18:00", "Завтра 10:00", "Пн 10:00"]
    await chat.say("пт 15:00")
    assert seen(chat) == "📌 Позвонить Ивану\nСрок: пт, 05.12 в 15:00 — верно?"
    await chat.press("Изменить")  # second thoughts: the choices again
    assert "Когда напомнить" in seen(chat)
    await chat.say("до пятницы")  # no time typed: the end of the working day, said so
    assert seen(chat) == (
        "📌 Позвонить Ивану\nСрок: пт, 05.12 в 18:00 — верно? (время не указано — ставлю 18:00)"
    )
    await chat.press("Да")
    task = await only_task(container)
    assert task.title == "Позвонить Ивану" and task.assignee_id == anna.id
    assert task.due_at.astimezone(MSK).strftime("%d.%m %H:%M") == "05.12 18:00"
    texts = [html.unescape(re.sub(r"<[^>]+>", "", m["text"])) for m in chat.messages]
    assert "Задача создана: напомню пт, 05.12 в 18:00" in texts
    assert seen(chat).startswith("📌 Позвонить Ивану")  # the card, with its buttons
    assert "✅ Готово" in labels(chat.last)


async def test_an_ambiguous_or_unreadable_time_is_asked_again(container, fake_tg, anna):
    chat = Chat(container, fake_tg, anna)
    await chat.say("/task")
    await chat.say("Отправить КП")
    await chat.say("когда-нибудь")
    assert "Не понял время" in seen(chat)
    await chat.say("в 9")  # 09:00 has passed: tonight at 21:00 or tomorrow at 09:00?
    assert "Уточните" in seen(chat)
    assert labels(chat.last) == ["пн, 01.12 в 21:00", "вт, 02.12 в 09:00"]
    await chat.press("вт, 02.12 в 09:00")
    task = await only_task(container)
    assert task.due_at.astimezone(MSK).strftime("%d.%m %H:%M") == "02.12 09:00"


async def test_a_task_from_a_client_card_with_a_quick_choice(container, fake_tg, clock, anna):
    async with container.db.unit_of_work() as s:
        ivan = await client_history.client(s, clock.now(), owner=anna)
    chat = Chat(container, fake_tg, anna)
    await chat.say("/start")
    await chat.press_data(ClientCallback(action=ClientAction.OPEN, client_id=ivan).pack())
    await chat.press("Задача")
    assert "Новая задача по «Иван Петров»" in seen(chat)
    await chat.say("Перезвонить по договору")
    await chat.press("Завтра 10:00")
    task = await only_task(container)
    assert task.client_id == ivan
    assert task.due_at.astimezone(MSK).strftime("%d.%m %H:%M") == "02.12 10:00"
    assert "Иван Петров" in seen(chat)  # the card names the client


async def test_someone_elses_client_cannot_get_a_task_from_a_forged_button(
    container, fake_tg, clock, anna
):
    async with container.db.unit_of_work() as s:
        boris = await factories.employee(s, clock, name="Борис", office="Москва")
        theirs = await client_history.client(s, clock.now(), owner=boris)
    chat = Chat(container, fake_tg, anna)
    await chat.say("/start")
    alert = await chat.press_data(NewTaskCallback(client_id=theirs).pack())
    assert alert is not None and "Что нужно сделать" not in seen(chat)
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Task) == 0


async def test_an_earlier_warning_can_be_asked_for_on_the_read_back(container, fake_tg, anna):
    chat = Chat(container, fake_tg, anna)
    await chat.say("/task")
    await chat.say("Встреча с клиентом")
    await chat.say("сегодня в 10:30")  # half an hour ahead: a warning an hour before can't be
    assert labels(chat.last) == ["✅ Да", "✏️ Изменить", "⏰ Верно, и напомнить за 15 мин"]
    await chat.press("напомнить за 15 мин")
    task = await only_task(container)
    assert task.warn_minutes == 15
    assert task.remind_at.astimezone(MSK).strftime("%H:%M") == "10:15"
