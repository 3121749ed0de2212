"""Finding a client in Telegram: typed, /find, a shared contact, a forwarded message and inline
mode, each within what the employee may see."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.callbacks import ClientAction, ClientCallback, CreateClientCallback
from models import Employee, Role
from tests import factories
from tests.chat import Chat, buttons, labels
from tests.services.test_search import client


@pytest.fixture
async def book(container, clock):
    """Anna (Kazan) owns Ivan Petrov of Romashka (contact Pyotr Semyonovich, Telegram 777) and
    Olga Ivanova; Boris (Kazan) owns Semyon; Gleb (Moscow) owns Pyotr Ivanov; Vera manages
    Kazan; the admin sees everyone."""
    async with container.db.unit_of_work() as s:
        staff = {
            "anna": await factories.employee(s, clock, name="Анна", office="Казань"),
            "boris": await factories.employee(s, clock, name="Борис", office="Казань"),
            "gleb": await factories.employee(s, clock, name="Глеб", office="Москва"),
            "vera": await factories.employee(
                s, clock, name="Вера", office="Казань", role=Role.MANAGER
            ),
            "admin": await factories.employee(s, clock, name="Админ", role=Role.ADMIN),
        }
        ivan = await client(
            s,
            clock,
            name="Иван Петров",
            company="ООО «Ромашка»",
            contacts=("Пётр Семёнович",),
            phones=("+79120001122",),
            emails=("ivan@example.com",),
            telegram=777,
            owner=staff["anna"],
        )
        olga = await client(
            s, clock, name="Ольга Иванова", phones=("+79130003344",), owner=staff["anna"]
        )
        semyon = await client(
            s, clock, name="Семён Кузнецов", phones=("+79140005566",), owner=staff["boris"]
        )
        pyotr = await client(
            s, clock, name="Пётр Иванов", phones=("+79150007788",), owner=staff["gleb"]
        )
        ids = {"ivan": ivan.id, "olga": olga.id, "semyon": semyon.id, "pyotr": pyotr.id}
    return staff, ids


def chat(container, fake_tg, who) -> Chat:
    return Chat(container, fake_tg, who)


@pytest.mark.parametrize(
    "text",
    [
        "+7 912 000-11-22",
        "89120001122",
        "8 (912) 000 11 22",
        "0001122",
        "IVAN@example.com",
        "петров",
        "Ромашка",
        "Семенович",
        "/find Иван Петров",
    ],
)
async def test_one_match_opens_the_card_at_once(container, fake_tg, book, text):
    staff, _ = book
    anna = chat(container, fake_tg, staff["anna"])
    await anna.say(text)
    assert "Иван Петров" in anna.text
    assert "Нашл" not in anna.text  # the card, not a list


async def test_several_matches_are_a_list_with_a_button_each(container, fake_tg, book):
    staff, ids = book
    vera = chat(container, fake_tg, staff["vera"])
    message = await vera.say("/find иван")
    assert "Нашлось 2 клиента" in vera.text
    assert "ООО «Ромашка» · +7 912 000-11-22" in vera.text  # company and phone on the line
    assert labels(message) == ["1. Иван Петров", "2. Ольга Иванова"]
    assert [b["callback_data"] for b in buttons(message)] == [
        ClientCallback(action=ClientAction.OPEN, client_id=ids["ivan"]).pack(),
        ClientCallback(action=ClientAction.OPEN, client_id=ids["olga"]).pack(),
    ]


async def test_a_client_found_by_a_contact_person_says_so(container, fake_tg, book):
    staff, _ = book
    admin = chat(container, fake_tg, staff["admin"])
    await admin.say("семён")  # Semyon by name, Ivan Petrov by his contact person
    assert "Семён Кузнецов" in admin.text
    assert "контакт: Пётр Семёнович" in admin.text


async def test_nothing_found_says_what_can_be_searched(container, fake_tg, book):
    staff, _ = book
    anna = chat(container, fake_tg, staff["anna"])
    await anna.say("Кузнецов")  # Boris's client: Anna may not see it
    assert "Ничего не нашлось по запросу «Кузнецов»" in anna.text
    assert "телефону" in anna.text and "e-mail" in anna.text


async def test_find_without_words_explains_itself(container, fake_tg, book):
    staff, _ = book
    anna = chat(container, fake_tg, staff["anna"])
    await anna.say("/find")
    assert "Что искать?" in anna.text


async def test_each_sees_only_their_clients(container, fake_tg, book):
    staff, _ = book
    boris = chat(container, fake_tg, staff["boris"])
    await boris.say("89120001122")  # Anna's client
    assert "Ничего не нашлось" in boris.text
    vera = chat(container, fake_tg, staff["vera"])  # manages Kazan: Anna's and Boris's
    await vera.say("Семён Кузнецов")
    assert "Семён Кузнецов" in vera.text
    await vera.say("+7 915 000-77-88")  # Gleb's, Moscow
    assert "Ничего не нашлось" in vera.text
    admin = chat(container, fake_tg, staff["admin"])
    await admin.say("+7 915 000-77-88")
    assert "Пётр Иванов" in admin.text


async def test_inline_results_are_personal_and_link_to_the_card(container, fake_tg, book):
    staff, ids = book
    anna = chat(container, fake_tg, staff["anna"])
    answer = await anna.inline("иван")
    assert answer["is_personal"] is True
    assert answer["cache_time"] == 0
    assert [r["title"] for r in answer["results"]] == ["Иван Петров", "Ольга Иванова"]
    [[link]] = answer["results"][0]["reply_markup"]["inline_keyboard"]
    assert link["url"] == f"https://t.me/chatcrm_test_bot?start=client_{ids['ivan']}"
    assert "+7" not in answer["results"][0]["input_message_content"]["message_text"]

    boris = chat(container, fake_tg, staff["boris"])
    assert [r["title"] for r in (await boris.inline("иван"))["results"]] == []


async def test_strangers_and_deactivated_employees_get_no_inline_results(container, fake_tg, book):
    staff, _ = book
    async with container.db.unit_of_work() as s:
        (await s.get(Employee, staff["admin"].id)).is_active = False
    for who in (424242, staff["admin"]):
        answer = await chat(container, fake_tg, who).inline("иван")
        assert answer["results"] == []
        assert answer["is_personal"] is True


async def test_the_inline_link_opens_the_card_after_checking_access(container, fake_tg, book):
    staff, ids = book
    anna = chat(container, fake_tg, staff["anna"])
    await anna.say(f"/start client_{ids['ivan']}")
    assert "Иван Петров" in anna.text
    boris = chat(container, fake_tg, staff["boris"])
    await boris.say(f"/start client_{ids['ivan']}")
    assert boris.text == "Этот клиент вам недоступен."
    stranger = chat(container, fake_tg, 424242)
    await stranger.say(f"/start client_{ids['ivan']}")
    assert stranger.text == "Карточки клиентов открывают только сотрудники."


async def test_a_shared_contact_opens_its_clients_card(container, fake_tg, book):
    staff, _ = book
    anna = chat(container, fake_tg, staff["anna"])
    await anna.share_contact("79120001122")
    assert "Иван Петров" in anna.text
    await anna.share_contact("+1 555 000", user_id=777)  # no valid phone, but the Telegram id
    assert "Иван Петров" in anna.text


async def test_an_unknown_contact_offers_to_create_the_client(container, fake_tg, book):
    staff, _ = book
    anna = chat(container, fake_tg, staff["anna"])
    message = await anna.share_contact("+7 999 000-11-22")
    assert anna.text == "Клиента с телефоном +7 999 000-11-22 нет."
    [create] = buttons(message)
    assert create["text"] == "Создать клиента"
    assert create["callback_data"] == CreateClientCallback(phone="79990001122").pack()


async def test_someone_elses_contact_is_not_offered_for_creation(container, fake_tg, book):
    staff, _ = book
    boris = chat(container, fake_tg, staff["boris"])
    message = await boris.share_contact("79120001122")
    assert boris.text == "Этот клиент уже есть, но он не ваш: обратитесь к руководителю."
    assert buttons(message) == []


async def test_a_forwarded_message_finds_its_sender(container, fake_tg, book):
    staff, _ = book
    anna = chat(container, fake_tg, staff["anna"])
    sender = {"id": 777, "is_bot": False, "first_name": "Иван"}
    origin = {"type": "user", "date": 1764572400, "sender_user": sender}
    await anna.say("Здравствуйте, хочу заказать", forward_origin=origin)
    assert "Иван Петров" in anna.text
    hidden = {"type": "hidden_user", "date": 1764572400, "sender_user_name": "Иван"}
    await anna.say("Здравствуйте", forward_origin=hidden)
    assert "скрыл свой аккаунт" in anna.text


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=4096).filter(lambda t: not t.startswith("/")))
async def test_any_text_gets_an_answer_never_an_error(container, fake_tg, book, text):
    staff, _ = book
    anna = chat(container, fake_tg, staff["anna"])
    before = len(anna.messages)
    await anna.say(text)
    assert len(anna.messages) == before + 1
    assert "ошибк" not in anna.text.casefold()
