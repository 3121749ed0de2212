"""Menus per role: the command list Telegram shows each person, /help, /start, and a
deactivated employee losing the bot at once."""

from __future__ import annotations

import asyncio
import json

import pytest

from app import Container, publish_strangers_menu, serve
from handlers.callbacks import LeadAction, LeadCallback, ListCallback, ListView
from models import Lead, LeadStatus, OutboxMessage, Role
from services import employees, leads
from tests import factories
from tests.chat import Chat, drain, labels

NO_ACCESS = "Ваш доступ к боту отключён"


def menus_of(fake_tg, chat_id: int) -> list:
    """setMyCommands / deleteMyCommands calls for one private chat, oldest first."""
    return [
        c
        for c in fake_tg.requests
        if c.method in ("setMyCommands", "deleteMyCommands")
        and c.params.get("scope") == {"type": "chat", "chat_id": chat_id}
    ]


def names(call) -> list[str]:
    return [c["command"] for c in call.params["commands"]]


async def invited(container, fake_tg, clock, role: Role, telegram_id: int) -> int:
    """An employee who opened their invite link in Telegram."""
    async with container.db.unit_of_work() as s:
        new = await employees.add(s, name="Анна", role=role, now=clock.now())
    await Chat(container, fake_tg, telegram_id).say(f"/start {new.invite_code}")
    return new.id


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            Role.EMPLOYEE,
            [
                "leads",
                "deals",
                "tasks",
                "tickets",
                "find",
                "new_client",
                "report",
                "help",
                "cancel",
            ],
        ),
        (Role.SUPPORT, ["tickets", "find", "leads", "deals", "tasks", "help", "cancel"]),
        (
            Role.MANAGER,
            [
                "leads",
                "office",
                "queue",
                "deals",
                "tasks",
                "tickets",
                "find",
                "new_client",
                "report",
                "help",
                "cancel",
            ],
        ),
        (
            Role.ADMIN,
            [
                "leads",
                "office",
                "queue",
                "deals",
                "tasks",
                "tickets",
                "find",
                "new_client",
                "report",
                "help",
                "cancel",
            ],
        ),
    ],
)
async def test_opening_the_invite_gives_the_chat_the_commands_of_the_role(
    container, fake_tg, clock, role, expected
):
    await invited(container, fake_tg, clock, role, 4242)
    [call] = menus_of(fake_tg, 4242)
    assert call.method == "setMyCommands" and names(call) == expected
    # For this one chat whatever language the app speaks, described in the employee's locale.
    assert "language_code" not in call.params
    descriptions = {c["command"]: c["description"] for c in call.params["commands"]}
    assert descriptions["find"] == "Найти клиента"


async def test_a_role_change_changes_the_menu(container, fake_tg, clock):
    employee_id = await invited(container, fake_tg, clock, Role.EMPLOYEE, 4242)
    async with container.db.unit_of_work() as s:
        changes = employees.Changes(role=Role.MANAGER)
        await employees.edit(s, employee_id, changes, company=container.company)
    await drain(container)
    first, now = menus_of(fake_tg, 4242)
    assert "office" not in names(first) and "office" in names(now)


async def test_a_new_telegram_account_takes_the_menu_and_the_old_chat_loses_it(
    container, fake_tg, clock
):
    employee_id = await invited(container, fake_tg, clock, Role.EMPLOYEE, 4242)
    async with container.db.unit_of_work() as s:
        changes = employees.Changes(telegram_id=5353)
        await employees.edit(s, employee_id, changes, company=container.company)
    await drain(container)
    assert [c.method for c in menus_of(fake_tg, 4242)] == ["setMyCommands", "deleteMyCommands"]
    [new] = menus_of(fake_tg, 5353)
    assert "find" in names(new)


async def test_an_english_speaking_employee_gets_english_commands_and_help(
    container, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        emma = await factories.employee(s, clock, name="Emma", locale="en")
    chat = Chat(container, fake_tg, emma)
    await chat.say("/start")
    [call] = menus_of(fake_tg, emma.telegram_id)
    assert {c["command"]: c["description"] for c in call.params["commands"]}["find"] == (
        "Find a client"
    )
    assert "Emma, here is what you can do" in chat.text and "/deals" in chat.text
    assert labels(chat.last) == ["📥 My leads", "💼 My deals"]


async def test_help_explains_an_employees_commands_with_buttons_for_their_lists(
    container, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    chat = Chat(container, fake_tg, anna)
    await chat.say("/help")
    assert "Анна, вот что можно сделать" in chat.text
    assert "/leads — ваши новые лиды" in chat.text and "/find — найти клиента" in chat.text
    assert "/office" not in chat.text and "/queue" not in chat.text
    assert labels(chat.last) == ["📥 Мои лиды", "💼 Мои сделки"]
    data = [b["callback_data"] for row in chat.last["reply_markup"]["inline_keyboard"] for b in row]
    views = [ListCallback.unpack(d).view for d in data]
    assert views == [ListView.MY_LEADS, ListView.MY_DEALS]


async def test_a_manager_sees_the_office_lists_and_the_queue_button_opens_the_queue(
    container, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        vera = await factories.employee(s, clock, name="Вера", office="Москва", role=Role.MANAGER)
    chat = Chat(container, fake_tg, vera)
    await chat.say("/help")
    assert "/office — лиды офиса" in chat.text and "/queue" in chat.text
    assert "сделки офиса по этапам и по сотрудникам" in chat.text  # the manager's own words
    assert labels(chat.last) == [
        "📥 Мои лиды",
        "🏢 Лиды офиса",
        "💼 Мои сделки",
        "📊 Сделки офиса",
        "⏳ Очередь",
    ]
    await chat.press("Очередь")
    assert "Очередь пуста" in chat.text  # the help message became the queue, in place
    assert len(chat.messages) == 1


async def test_a_name_in_the_help_title_is_text_not_markup(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        odd = await factories.employee(s, clock, name="<b>Анна</b> & Co")
    chat = Chat(container, fake_tg, odd)
    await chat.say("/help")
    assert "&lt;b&gt;Анна&lt;/b&gt; &amp; Co" in chat.text


async def test_a_stranger_gets_start_and_help_and_how_to_connect(container, fake_tg):
    chat = Chat(container, fake_tg, 777)
    await chat.say("/help")
    assert "/start" in chat.text and "/help" in chat.text and "приглашение" in chat.text
    assert "/find" not in chat.text and labels(chat.last) == []
    assert menus_of(fake_tg, 777) == []  # a stranger's chat keeps the general list


async def test_start_for_a_bound_employee_shows_the_menu_and_refreshes_the_commands(
    container, fake_tg, clock
):
    """An employee added with a Telegram id (`crm employee add --telegram-id`) gets their
    commands the first time they open the bot."""
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    chat = Chat(container, fake_tg, anna)
    await chat.say("/start")
    assert "Анна, вот что можно сделать" in chat.text and "📥 Мои лиды" in labels(chat.last)
    [call] = menus_of(fake_tg, anna.telegram_id)
    assert names(call)[:2] == ["leads", "deals"]


async def test_strangers_menu_is_set_for_private_chats_once_per_version(container, fake_tg):
    await publish_strangers_menu(container)
    await publish_strangers_menu(container)  # a second process, or a restart
    await drain(container)
    calls = fake_tg.calls("setMyCommands")
    assert len(calls) == 3
    assert {c.params["scope"]["type"] for c in calls} == {"all_private_chats"}
    by_language = {c.params.get("language_code"): c for c in calls}
    assert set(by_language) == {None, "ru", "en"}
    assert names(by_language["en"]) == ["start", "help"]
    assert by_language["en"].params["commands"][1]["description"] == "What the bot can do"
    assert by_language["ru"].params["commands"][1]["description"] == "Что умеет бот"


async def test_starting_the_bot_publishes_the_strangers_menu(settings, clock, db, fake_tg):
    container = Container.build(settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(container, {"bot", "worker"}, stop))
    try:
        await fake_tg.wait_for("setMyCommands", timeout=5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert fake_tg.calls("setMyCommands")[0].params["scope"] == {"type": "all_private_chats"}


# --- a deactivated employee loses the bot at once


@pytest.fixture
async def anna_with_a_lead(container, fake_tg, clock):
    """Anna has her help screen (buttons) and a new lead's card in her chat."""
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Москва")
        result = await leads.register_incoming(
            s,
            leads.LeadIn(source="form:site", phone="+79120001122", name="Иван", office="Москва"),
            company=container.company,
        )
    assert result.assignee_id == anna.id
    chat = Chat(container, fake_tg, anna)
    await chat.say("/help")
    return anna, chat, result.lead_id


async def deactivate(container, employee_id: int) -> None:
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, employee_id, False, company=container.company)
    await drain(container)


async def test_a_deactivated_employee_loses_their_commands(container, fake_tg, anna_with_a_lead):
    anna, _chat, _ = anna_with_a_lead
    await deactivate(container, anna.id)
    [gone] = menus_of(fake_tg, anna.telegram_id)
    assert gone.method == "deleteMyCommands" and "language_code" not in gone.params
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, anna.id, True, company=container.company)
    await drain(container)
    back = menus_of(fake_tg, anna.telegram_id)[-1]
    assert back.method == "setMyCommands" and "leads" in names(back)


async def test_every_command_and_text_of_a_deactivated_employee_answers_no_access(
    container, fake_tg, anna_with_a_lead
):
    anna, chat, _ = anna_with_a_lead
    await deactivate(container, anna.id)
    for text in ("/help", "/start", "/find Иван", "/queue", "/cancel", "Иван Петров"):
        before = len(chat.messages)
        await chat.say(text)
        assert [m["text"] for m in chat.messages[before:]] == [
            "Ваш доступ к боту отключён. Если это ошибка, обратитесь к руководителю."
        ], text


async def test_buttons_of_a_deactivated_employee_answer_no_access_and_change_nothing(
    container, fake_tg, anna_with_a_lead
):
    anna, chat, lead_id = anna_with_a_lead
    await deactivate(container, anna.id)
    async with container.db.unit_of_work() as s:
        rows_before = await factories.count(s, OutboxMessage)
    [menu] = [m for m in chat.messages if "📥 Мои лиды" in labels(m)]
    assert (await chat.press("Мои лиды", menu)).startswith(NO_ACCESS)
    take = LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack()
    assert (await chat.press_data(take)).startswith(NO_ACCESS)
    async with container.db.unit_of_work() as s:
        lead = await s.get(Lead, lead_id)
        assert (lead.status, lead.assignee_id) == (LeadStatus.NEW, None)  # back in the queue
        assert await factories.count(s, OutboxMessage) == rows_before  # nobody was told a thing


async def test_a_deactivated_employee_finds_nothing_inline_and_is_told_why(
    container, fake_tg, anna_with_a_lead
):
    anna, chat, _ = anna_with_a_lead
    await deactivate(container, anna.id)
    answer = await chat.inline("Иван")
    results, button = answer["results"], answer["button"]
    results = json.loads(results) if isinstance(results, str) else results
    button = json.loads(button) if isinstance(button, str) else button
    assert results == [] and button["text"] == "Доступ к боту отключён"
    assert answer["is_personal"] in (True, "true") and answer["cache_time"] == 0


async def test_a_former_employee_is_told_something_else_than_a_stranger(
    container, fake_tg, anna_with_a_lead
):
    anna, chat, lead_id = anna_with_a_lead
    await deactivate(container, anna.id)
    stranger = Chat(container, fake_tg, 777)
    await stranger.say("/start")
    assert "приглашение" in stranger.text and NO_ACCESS not in stranger.text
    take = LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack()
    assert await stranger.press_data(take, chat.last) == "Вы не сотрудник в системе"
