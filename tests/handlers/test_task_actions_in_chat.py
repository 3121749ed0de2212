"""A task card's buttons in the chat: a comment typed after Comment shows on the card; a manager
reassigns from the card and the new assignee gets it; someone else's task is refused, however
the button reached them."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from handlers.callbacks import TaskAction, TaskCallback
from models import Role
from services import tasks
from services.actors import Actor
from tests import factories
from tests.chat import Chat, labels


def seen(chat: Chat, message: dict | None = None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", (message or chat.last)["text"]))


@pytest.fixture
async def office(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        people = {
            "anna": await factories.employee(s, clock, name="Анна", office="Казань"),
            "boris": await factories.employee(s, clock, name="Борис", office="Казань"),
            "olga": await factories.employee(
                s, clock, name="Ольга", role=Role.MANAGER, office="Казань"
            ),
        }
        task = await tasks.create(
            s,
            title="Подписать договор",
            due_at=clock.now() + timedelta(hours=2),
            assignee_id=people["anna"].id,
            by=Actor.of(people["anna"]),
            company=container.company,
        )
    chats = {name: Chat(container, fake_tg, who) for name, who in people.items()}
    return {**chats, "task": task.id}


async def open_card(chat: Chat, task_id: int) -> None:
    await chat.say("/tasks")
    await chat.press_data(TaskCallback(action=TaskAction.OPEN, task_id=task_id).pack())


async def test_a_comment_typed_after_comment_shows_on_the_card(office):
    anna = office["anna"]
    await open_card(anna, office["task"])
    await anna.press("Комментарий")
    assert "Напишите комментарий к задаче «Подписать договор»" in seen(anna)
    await anna.say("Клиент просит перенести на среду")
    texts = [seen(anna, m) for m in anna.messages]
    assert "Комментарий добавлен" in texts
    assert "Анна: Клиент просит перенести на среду" in seen(anna)  # the card, sent again


async def test_a_manager_reassigns_from_the_card_and_the_new_assignee_gets_it(office):
    olga, boris, anna = office["olga"], office["boris"], office["anna"]
    await open_card(olga, office["task"])
    assert "👤 Передать" in labels(olga.last)
    await olga.press("Передать")
    assert "Кому передать «Подписать договор»?" in seen(olga)
    assert await olga.press("Борис") == "Задача передана"
    assert "Ответственный: Борис" in seen(olga)
    card = [m for m in boris.messages if "Подписать договор" in seen(boris, m)]
    assert card and "✅ Готово" in labels(card[-1])
    # Anna's own copy, if she opens it, has no buttons any more.
    await open_card(anna, office["task"])
    assert "Задача передана: Борис" in seen(anna) and labels(anna.last) == []


async def test_someone_elses_task_is_refused_however_the_button_came(office):
    boris = office["boris"]
    await boris.say("/tasks")
    for action in (TaskAction.DONE, TaskAction.SNOOZE, TaskAction.COMMENT, TaskAction.REASSIGN):
        alert = await boris.press_data(TaskCallback(action=action, task_id=office["task"]).pack())
        assert alert in (
            "Это может сделать только ответственный или руководитель офиса",
            "Передать задачу может только руководитель офиса",
        ), alert
    async with boris.container.db.unit_of_work() as s:
        card = await tasks.card(s, office["task"])
    assert card.status.value == "open" and card.assignee == "Анна" and card.comments == []
