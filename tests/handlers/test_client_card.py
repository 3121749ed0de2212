"""The client card in Telegram: open it, page its timeline in place, add a note, create and
edit clients, list leads and deals; and every refusal (another employee's client, another
office, a tampered button)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from config.i18n import translate
from handlers.callbacks import ClientAction, ClientCallback, CreateClientCallback
from models import AuditEntry, Client, Employee, Note, Office, Role
from tests import factories
from tests import timeline_data as client_history
from tests.chat import Chat, labels
from tests.conftest import MSK

# What a deactivated employee is told (handlers.strangers, former employees).
NO_ACCESS = translate("ru", "menu.former.no_access")


@pytest.fixture
async def team(container, clock):
    """Anna and Boris work in Kazan, Gleb manages Kazan, Vera manages Moscow. Anna owns Ivan,
    whose history has eight events (the last: Boris won the deal)."""
    async with container.db.unit_of_work() as s:
        people = {
            "anna": await factories.employee(s, clock, name="Анна", office="Казань"),
            "boris": await factories.employee(s, clock, name="Борис", office="Казань"),
            "gleb": await factories.employee(
                s, clock, name="Глеб", office="Казань", role=Role.MANAGER
            ),
            "vera": await factories.employee(
                s, clock, name="Вера", office="Москва", role=Role.MANAGER
            ),
        }
        client_id = await client_history.client(s, clock.now(), owner=people["anna"])
        history = await client_history.eight_events(
            s,
            client_id,
            anna=people["anna"],
            boris=people["gleb"],
            start=clock.now() - timedelta(days=1),
        )
    return {**people, "history": history, "ivan": client_id}


def open_data(client_id: int, page: int = 0) -> str:
    return ClientCallback(action=ClientAction.OPEN, client_id=client_id, page=page).pack()


async def open_card(container, fake_tg, who, client_id: int) -> Chat:
    """The card opened from a message in the chat (as search results open it: in place)."""
    chat = Chat(container, fake_tg, who)
    await chat.say("/start")
    assert await chat.press_data(open_data(client_id)) is None
    return chat


async def name_of(container, client_id: int) -> str | None:
    async with container.db.unit_of_work() as s:
        return (await s.get(Client, client_id)).name


async def test_the_card_shows_who_the_client_is_and_pages_its_timeline_in_place(
    container, fake_tg, team
):
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    card = anna.last
    for shown in ("Иван Петров", "+7 912 000-11-22", "Ответственный: Анна", "<b>История</b>"):
        assert shown in card["text"]
    lines = [line for line in card["text"].split("\n") if line.startswith("• ")]
    assert len(lines) == 6
    assert "«Кухня» выиграна, Глеб" in lines[0]
    assert "💬 клиент: Здравствуйте" in lines[1] and "📝 Анна: Хочет скидку" in lines[2]
    assert "входящий звонок" in lines[3] and "задача «Перезвонить»" in lines[4]
    assert "«Кухня» → Переговоры, Анна" in lines[5]
    assert "‹" not in labels(card) and "›" in labels(card)
    count = len(anna.messages)
    await anna.press("›")
    older = anna.last
    assert older["message_id"] == card["message_id"] and len(anna.messages) == count
    assert "История, стр. 2" in older["text"]
    assert "сделка «Кухня»: Успешно реализовано, 150\xa0000\xa0₽, Анна" in older["text"]
    assert "заявка form:site (целевой)" in older["text"]
    assert "Хочет скидку" not in older["text"] and "›" not in labels(older)
    await anna.press("‹")
    assert anna.last["message_id"] == card["message_id"]
    assert "выиграна" in anna.last["text"] and len(anna.messages) == count


@pytest.mark.parametrize("who", ["boris", "vera"])
@pytest.mark.parametrize("action", [ClientAction.OPEN, ClientAction.LEADS, ClientAction.DEALS])
async def test_another_employees_or_another_offices_client_is_refused(
    container, fake_tg, team, who, action
):
    chat = Chat(container, fake_tg, team[who])
    await chat.say("/start")
    before = chat.last["text"]
    data = ClientCallback(action=action, client_id=team["ivan"]).pack()
    alert = await chat.press_data(data)
    assert alert is not None and "не ваш клиент" in alert
    assert chat.last["text"] == before and "Иван Петров" not in chat.last["text"]


async def test_the_office_manager_sees_the_card_with_merge_the_owner_without(
    container, fake_tg, team
):
    gleb = await open_card(container, fake_tg, team["gleb"], team["ivan"])
    assert "Иван Петров" in gleb.text and "🔀 Объединить" in labels(gleb.last)
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    assert "🔀 Объединить" not in labels(anna.last)
    assert {"➕ Новая сделка", "📝 Заметка", "✏️ Изменить", "Лиды", "Сделки"} <= set(
        labels(anna.last)
    )


@pytest.mark.parametrize(
    ("data", "alert"),
    [
        (open_data(1, page=5), "Такой страницы истории нет"),
        (open_data(999_999), "Клиент не найден"),
        ("cl:o:1:99999", "Не найдено"),  # a page no button can carry
        ("cl:zz:1:0", "Не найдено"),  # an action that does not exist
    ],
)
async def test_a_tampered_button_gets_an_alert_and_the_message_stays(
    container, fake_tg, team, data, alert
):
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    shown = anna.text
    data = data.replace(":1:", f":{team['ivan']}:", 1) if ":1:" in data else data
    assert await anna.press_data(data) == alert
    assert anna.text == shown


async def test_a_note_typed_from_the_card_tops_the_timeline_for_colleagues(
    container, fake_tg, team
):
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    await anna.press("📝 Заметка")
    assert "Напишите заметку" in anna.text
    await anna.say("Просит перезвонить <завтра> & не раньше 10")
    texts = [m["text"] for m in anna.messages[-2:]]
    assert texts[0] == "📝 Заметка добавлена"
    first = next(line for line in texts[1].split("\n") if line.startswith("• "))
    assert "📝 Анна: Просит перезвонить &lt;завтра&gt; &amp; не раньше 10" in first
    gleb = await open_card(container, fake_tg, team["gleb"], team["ivan"])
    assert "Просит перезвонить" in gleb.text
    await anna.say("это уже не заметка")  # the dialog is over
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Note) == 2  # the history's one and this one


async def test_cancel_leaves_the_note_dialog_and_nothing_is_written(container, fake_tg, team):
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    await anna.press("📝 Заметка")
    await anna.say("/cancel")
    assert anna.text == "Отменено."
    await anna.say("не заметка")
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Note) == 1


async def test_create_a_client_in_chat_with_bad_input_and_a_duplicate_refused_clearly(
    container, fake_tg, team
):
    anna = Chat(container, fake_tg, team["anna"])
    await anna.say("/new_client")
    assert "Как зовут клиента" in anna.text
    await anna.say("Семён Ёлкин")
    assert "Телефон клиента" in anna.text
    await anna.say("12345")
    assert "«12345» — не номер телефона" in anna.text
    await anna.say("8 912 000 11 22")  # Ivan's
    assert "+7 912 000-11-22 уже есть у клиента «Иван Петров»" in anna.text
    await anna.press(f"Открыть клиента #{team['ivan']}")
    assert "Иван Петров" in anna.text  # the existing card, opened in place
    await anna.say("+7 912 555-66-77")
    assert "E-mail клиента" in anna.text
    await anna.say("semen@")
    assert "не e-mail" in anna.text
    await anna.say("Semen@Example.ru")
    await anna.say("ООО Ёж")
    await anna.say("Пётр")
    await anna.say("-")
    assert "Ещё контактное лицо" in anna.text
    await anna.say("-")
    created, card = anna.messages[-2:]
    assert created["text"] == "✅ Клиент создан"
    for shown in (
        "Семён Ёлкин",
        "🏢 ООО Ёж",
        "👥 Пётр",
        "📞 +7 912 555-66-77",
        "✉️ semen@example.ru",
        "Ответственный: Анна",
        "Пока ничего не было",
    ):
        assert shown in card["text"]
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Client) == 2


async def test_a_duplicate_of_a_client_anna_may_not_see_names_no_button(container, fake_tg, team):
    boris = Chat(container, fake_tg, team["boris"])
    await boris.say("/new_client")
    await boris.say("Иван")
    await boris.say("+79120001122")
    assert f"уже есть у клиента #{team['ivan']} другого сотрудника" in boris.text
    assert "Иван Петров" not in boris.text and labels(boris.last) == []


async def test_edit_name_add_an_email_and_remove_a_phone(container, fake_tg, team):
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    await anna.press("✏️ Изменить")
    assert "Изменить: Иван Петров" in anna.text
    await anna.press("Имя")
    await anna.say("Иван Ёршов")
    assert anna.messages[-2]["text"] == "✅ Сохранено" and "Иван Ёршов" in anna.text
    await anna.press("✏️ Изменить")
    await anna.press("➕ E-mail")
    await anna.say("ivan@example.ru")
    assert "✉️ ivan@example.ru" in anna.text
    await anna.press("✏️ Изменить")
    assert await anna.press("✖ +7 912 000-11-22") == "Удалено"
    assert "+7 912 000-11-22" not in " ".join(labels(anna.last))
    async with container.db.unit_of_work() as s:
        client = await s.get(Client, team["ivan"])
        assert client.search_text == "иван ершов"
        actions = (
            await s.execute(sa.select(AuditEntry.data).where(AuditEntry.action == "client.update"))
        ).scalars()
        assert [list(a["changes"]) for a in actions] == [["name"], ["emails"], ["phones"]]


async def test_a_colleague_cannot_edit_through_a_forwarded_edit_button(container, fake_tg, team):
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    await anna.press("✏️ Изменить")
    name_button = next(b for row in anna.last["reply_markup"]["inline_keyboard"] for b in row)
    boris = Chat(container, fake_tg, team["boris"])
    await boris.say("/start")
    alert = await boris.press_data(name_button["callback_data"])
    assert alert is not None and "не ваш клиент" in alert
    await boris.say("Чужое имя")
    assert await name_of(container, team["ivan"]) == "Иван Петров"


async def test_leads_and_deals_lists_open_the_lead_and_name_the_deal(container, fake_tg, team):
    history = team["history"]
    anna = await open_card(container, fake_tg, team["anna"], team["ivan"])
    await anna.press("Лиды")
    assert "Клиент #" in anna.text and f"#{history.lead_id}" in anna.text
    leads_list = anna.last
    assert await anna.press(f"Лид #{history.lead_id}") == "Карточка лида отправлена"
    assert "👤 Клиент" in labels(anna.last)  # the lead's card came, linking back to the client
    await anna.press("‹ К карточке", leads_list)
    await anna.press("Сделки", anna.message(leads_list["message_id"]))
    deals = anna.message(leads_list["message_id"])
    assert "1 сделка" in deals["text"]
    assert "• Кухня — Успешно реализовано, 150\xa0000\xa0₽" in deals["text"]
    assert labels(deals)[0].startswith("Кухня — Успешно реализовано, 150")  # opens the deal


async def test_create_from_a_shared_contacts_phone_skips_the_phone_question(
    container, fake_tg, team
):
    anna = Chat(container, fake_tg, team["anna"])
    await anna.say("/start")
    await anna.press_data(CreateClientCallback(phone="79125556677").pack())
    await anna.say("Ольга")
    assert "E-mail клиента" in anna.text  # the phone is known already
    for answer in ("-", "-", "-"):
        await anna.say(answer)
    assert "Ольга" in anna.text and "📞 +7 912 555-66-77" in anna.text
    await anna.press_data(CreateClientCallback(phone="79120001122").pack())  # Ivan's
    assert "уже есть у клиента «Иван Петров»" in anna.text
    assert labels(anna.last) == [f"Открыть клиента #{team['ivan']}"]


async def test_a_deactivated_employee_gets_no_card(container, fake_tg, team):
    anna = Chat(container, fake_tg, team["anna"])
    await anna.say("/start")
    async with container.db.unit_of_work() as s:
        (await s.get(Employee, team["anna"].id)).is_active = False
    alert = await anna.press_data(open_data(team["ivan"]))
    assert alert == NO_ACCESS
    assert "Иван Петров" not in anna.text


async def test_times_are_in_the_viewers_office_zone_and_english_texts_use_english_plurals(
    container, fake_tg, team, clock
):
    async with container.db.unit_of_work() as s:
        office_id = (await s.get(Employee, team["gleb"].id)).office_id
        (await s.get(Office, office_id)).timezone = "Asia/Yekaterinburg"  # Moscow + 2 h
        (await s.get(Employee, team["gleb"].id)).locale = "en"
    gleb = await open_card(container, fake_tg, team["gleb"], team["ivan"])
    won_at = team["history"].start + timedelta(hours=7)  # 30 Nov, 10:00 Moscow + 7 h
    assert won_at.astimezone(MSK).strftime("%H:%M") == "17:00"
    assert "<b>History</b>" in gleb.text
    assert "• 30 Nov 2025, 19:00 · 🏆 “Кухня” won, Глеб" in gleb.text
    await gleb.press("Deals")
    assert (
        "Client #" in gleb.last_with_buttons["text"]
        and ": 1 deal<" in gleb.last_with_buttons["text"]
    )


async def test_a_merged_clients_button_opens_the_survivor(container, fake_tg, team, clock):
    async with container.db.unit_of_work() as s:
        twin = await client_history.client(s, clock.now(), name="Ваня", owner=None, phone=None)
        (await s.get(Client, twin)).merged_into_id = team["ivan"]
    anna = await open_card(container, fake_tg, team["anna"], twin)
    assert "Иван Петров" in anna.text and f"#{team['ivan']}" in anna.text
    # The twin's deals button lists the survivor's deals.
    await anna.press_data(ClientCallback(action=ClientAction.DEALS, client_id=twin).pack())
    assert "1 сделка" in anna.last["text"] and "Кухня" in anna.last["text"]
