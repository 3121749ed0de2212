"""Dialog state: /cancel always works, an abandoned dialog expires politely after 30 minutes,
and with Redis a restart keeps a half-finished dialog.

The dialog here is a tiny one made for the test ("/pet" asks for a name), registered after
the product's routers as every feature's dialog is, and entered with a plain
`state.set_state(...)` as the features do."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.formatting import Text

from bot.telegram import dialogs
from bot.telegram.factory import make_dispatcher
from bot.telegram.screens import Screen, Ui
from handlers import get_routers
from services import employees
from services.context import Company
from tests import factories
from tests.chat import Chat

EXPIRED = "Вы долго не отвечали, и начатое действие отменено. Начните заново."


class Pet(StatesGroup):
    name = State()


def pet_router() -> Router:
    router = Router(name="test: a tiny dialog")
    router.message.register(ask, Command("pet"))
    router.message.register(ask_with_helper, Command("pet2"))
    router.message.register(named, Pet.name, F.text)
    return router


async def ask(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.set_state(Pet.name)
    await ui.send(Screen.of(Text("Как зовут питомца?")))


async def ask_with_helper(message: Message, state: FSMContext, ui: Ui, company: Company) -> None:
    await dialogs.start_dialog(state, Pet.name, clock=company.clock, kind="cat")
    await ui.send(Screen.of(Text("Как зовут кошку?")))


async def named(message: Message, state: FSMContext, ui: Ui) -> None:
    kind = (await state.get_data()).get("kind", "pet")
    await state.clear()
    await ui.send(Screen.of(Text(f"Записал: {kind} {message.text}")))


def bot_on(container, redis=None, prefix: str = "crm") -> SimpleNamespace:
    """The product's dispatcher plus the test dialog, answering through the container's pump."""
    dispatcher = make_dispatcher(
        container.db,
        container.company,
        redis,
        redis_prefix=prefix,
        routers=[*get_routers(), pet_router()],
    )
    return SimpleNamespace(dispatcher=dispatcher, bot=container.bot, pump=container.pump)


@pytest.fixture(params=["memory", "redis"])
def bot(request, container):
    """The dialog bot with its FSM in memory, or in Redis (REDIS_URL set)."""
    if request.param == "memory":
        return bot_on(container)
    redis = request.getfixturevalue("redis")
    return bot_on(container, redis, request.getfixturevalue("redis_prefix"))


@pytest.fixture
async def anna(container, clock):
    async with container.db.unit_of_work() as s:
        return await factories.employee(s, clock, name="Анна")


def texts(chat: Chat, since: int) -> list[str]:
    return [m["text"] for m in chat.messages[since:]]


async def test_cancel_with_no_dialog_says_there_is_nothing_to_cancel(bot, fake_tg, anna):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/cancel")
    assert chat.text == "Отменять нечего: сейчас ничего не начато."


async def test_cancel_ends_the_dialog_and_the_next_text_is_not_its_answer(bot, fake_tg, anna):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet")
    await chat.say("/cancel")
    assert chat.text == "Отменено."
    before = len(chat.messages)
    await chat.say("Барсик")
    assert not any("Записал" in t for t in texts(chat, before))


async def test_a_dialog_answered_in_time_goes_on(bot, fake_tg, anna, clock):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet")
    clock.advance(minutes=29)
    await chat.say("Барсик")
    assert chat.text == "Записал: pet Барсик"


async def test_an_abandoned_dialog_expires_politely(bot, fake_tg, anna, clock):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet")
    clock.advance(minutes=31)
    before = len(chat.messages)
    await chat.say("Барсик")
    assert texts(chat, before) == [EXPIRED]  # not taken as the pet's name
    await chat.say("/cancel")
    assert chat.text == "Отменять нечего: сейчас ничего не начато."


async def test_every_answer_in_a_dialog_keeps_it_alive(bot, fake_tg, anna, clock):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet")
    clock.advance(minutes=20)
    await chat.say("/help")  # something else in the middle of the dialog
    clock.advance(minutes=20)
    await chat.say("Барсик")
    assert chat.text == "Записал: pet Барсик"


async def test_a_command_after_an_expired_dialog_says_so_and_still_works(bot, fake_tg, anna, clock):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet")
    clock.advance(hours=2)
    before = len(chat.messages)
    await chat.say("/help")
    [expired, help_text] = texts(chat, before)
    assert expired == EXPIRED and "вот что можно сделать" in help_text
    before = len(chat.messages)
    await chat.say("/cancel")  # the dialog is gone: nothing to cancel
    assert texts(chat, before) == ["Отменять нечего: сейчас ничего не начато."]


async def test_cancel_after_an_expired_dialog_says_it_only_once(bot, fake_tg, anna, clock):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet")
    clock.advance(minutes=45)
    before = len(chat.messages)
    await chat.say("/cancel")
    assert texts(chat, before) == [EXPIRED]


async def test_the_helper_starts_a_dialog_with_its_data_and_it_expires_too(
    bot, fake_tg, anna, clock
):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet2")
    await chat.say("Мурка")
    assert chat.text == "Записал: cat Мурка"
    await chat.say("/pet2")
    clock.advance(minutes=31)
    await chat.say("Мурка")
    assert chat.text == EXPIRED


async def test_a_restart_keeps_a_half_finished_dialog_in_redis(
    container, fake_tg, anna, clock, redis, redis_prefix
):
    before_restart = bot_on(container, redis, redis_prefix)
    await Chat(before_restart, fake_tg, anna).say("/pet")
    clock.advance(minutes=10)
    after_restart = bot_on(container, redis, redis_prefix)  # a new process, the same Redis
    chat = Chat(after_restart, fake_tg, anna)
    await chat.say("Барсик")
    assert chat.text == "Записал: pet Барсик"


async def test_without_redis_a_restart_forgets_the_dialog(container, fake_tg, anna):
    """In memory (no REDIS_URL) the dialog lives as long as the process."""
    await Chat(bot_on(container), fake_tg, anna).say("/pet")
    chat = Chat(bot_on(container), fake_tg, anna)
    before = len(chat.messages)
    await chat.say("Барсик")
    assert not any("Записал" in t for t in texts(chat, before))


async def test_a_deactivated_employee_in_a_dialog_gets_no_access_and_loses_it(
    bot, fake_tg, anna, container
):
    chat = Chat(bot, fake_tg, anna)
    await chat.say("/pet")
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, anna.id, False, company=container.company)
    await chat.say("Барсик")
    assert chat.text.startswith("Ваш доступ к боту отключён")
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, anna.id, True, company=container.company)
    await chat.say("/cancel")  # the dialog was dropped with her access
    assert chat.text == "Отменять нечего: сейчас ничего не начато."
