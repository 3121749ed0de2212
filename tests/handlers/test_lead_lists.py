"""/leads (my new leads) and /office (the office's untaken leads) in Telegram: pages, ages,
and a button per lead that opens its card."""

from __future__ import annotations

import pytest

from handlers.callbacks import ListCallback, ListView
from models import Lead, LeadStatus, Role
from services import leads
from services.actors import Actor
from tests import factories
from tests.chat import Chat, drain, labels


@pytest.fixture
async def team(container, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Москва")
        vera = await factories.employee(s, clock, name="Вера", office="Москва", role=Role.MANAGER)
        gleb = await factories.employee(s, clock, name="Глеб", office="Казань", role=Role.MANAGER)
    return {"anna": anna, "vera": vera, "gleb": gleb}


async def register(container, n: int, *, office: str = "Москва") -> int:
    async with container.db.unit_of_work() as s:
        result = await leads.register_incoming(
            s,
            leads.LeadIn(
                source="form:site", phone=f"+7912000{n:04d}", name=f"Клиент {n}", office=office
            ),
            company=container.company,
        )
    await drain(container)
    return result.lead_id


async def register_many(container, clock, count: int, **apart: int) -> list[int]:
    """`count` leads ("Клиент 0"…), the clock moved by `apart` after each."""
    ids = []
    for n in range(count):
        ids.append(await register(container, n))
        clock.advance(**apart)
    return ids


async def test_my_new_leads_newest_first_a_page_at_a_time(container, fake_tg, team, clock):
    ids = await register_many(container, clock, 10, minutes=1)
    anna = Chat(container, fake_tg, team["anna"])
    await anna.say("/leads")
    assert "У вас 10 новых лидов" in anna.text and "Стр. 1 из 2" in anna.text
    assert labels(anna.last) == [f"#{i} Клиент {i - 1}" for i in reversed(ids[2:])] + ["›"]
    await anna.press("›")  # the same message, edited
    assert labels(anna.last) == [f"#{ids[1]} Клиент 1", f"#{ids[0]} Клиент 0", "‹"]
    assert "Стр. 2 из 2" in anna.text
    assert await anna.press(f"#{ids[0]} ") == "Карточка лида отправлена"
    assert f"Новый лид #{ids[0]}" in anna.text and labels(anna.last)[0] == "✅ Взять"
    await anna.press("Взять")
    await anna.say("/leads")
    assert "У вас 9 новых лидов" in anna.text  # a taken lead is no longer new


async def test_with_no_new_leads_the_list_says_so(container, fake_tg, team):
    anna = Chat(container, fake_tg, team["anna"])
    await anna.say("/leads")
    assert anna.text == "Новых лидов у вас нет 🎉"


async def test_the_manager_sees_the_offices_untaken_leads_with_their_age(
    container, fake_tg, team, clock
):
    first = await register(container, 1)
    clock.advance(hours=2)
    second = await register(container, 2)
    await register(container, 3, office="Казань")
    clock.advance(minutes=5)
    async with container.db.unit_of_work() as s:
        await leads.take(s, second, by=Actor.of(team["anna"]), company=container.company)
    third = await register(container, 4)
    clock.advance(minutes=1)
    vera = Chat(container, fake_tg, team["vera"])
    await vera.say("/office")
    text = vera.text
    assert "2 новых лида офиса ждут ответа" in text
    assert f"#{first} · 2 часа · Клиент 1" in text and f"#{third} · 1 минуту · Клиент 4" in text
    assert "Клиент 2" not in text and "Клиент 3" not in text  # taken; another office
    assert labels(vera.last) == [f"#{first} Клиент 1", f"#{third} Клиент 4"]  # oldest first
    assert await vera.press(f"#{first} ") == "Карточка лида отправлена"
    assert f"Новый лид #{first}" in vera.text and "🔁 Передать" in labels(vera.last)


async def test_the_office_list_pages(container, fake_tg, team, clock):
    await register_many(container, clock, 9, days=1)
    vera = Chat(container, fake_tg, team["vera"])
    await vera.say("/office")
    assert "9 новых лидов офиса" in vera.text and "9 дней" in vera.text
    await vera.press("›")
    assert labels(vera.last) == ["#9 Клиент 8", "‹"] and "1 день" in vera.text


async def test_a_page_that_emptied_meanwhile_shows_the_last_page_there_is(
    container, fake_tg, team, clock
):
    ids = await register_many(container, clock, 9, days=1)
    vera = Chat(container, fake_tg, team["vera"])
    await vera.say("/office")
    first_page = vera.last
    async with container.db.unit_of_work() as s:  # two are taken meanwhile
        for lead_id in ids[:2]:
            (await s.get(Lead, lead_id)).status = LeadStatus.TARGET
    await vera.press("›", first_page)  # page 2 no longer exists: 7 leads are one page
    assert "7 новых лидов офиса" in vera.text
    assert "#3 Клиент 2" in labels(vera.last) and "›" not in labels(vera.last)


async def test_an_employee_has_no_office_list(container, fake_tg, team):
    await register(container, 1)
    anna = Chat(container, fake_tg, team["anna"])
    await anna.say("/office")
    assert anna.text == "Очередь видят только руководители и администраторы"
    forged = ListCallback(view=ListView.OFFICE_LEADS).pack()
    answer = await anna.press_data(forged)
    assert answer == "Очередь видят только руководители и администраторы"


async def test_an_english_speaking_manager_reads_the_lists_in_english(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        lena = await factories.employee(
            s, clock, name="Lena", office="Москва", role=Role.MANAGER, locale="en"
        )
    lead_id = await register(container, 1)  # nobody on duty: the office manager gets it
    clock.advance(hours=1)
    chat = Chat(container, fake_tg, lena)
    await chat.say("/office")
    assert "1 new lead of the office is waiting" in chat.text
    assert f"#{lead_id} · 1 hour · Клиент 1" in chat.text and "· Lena" in chat.text
    await chat.say("/leads")
    assert chat.text.startswith("<b>📋 You have 1 new lead</b>")
