"""The whole path as people live it: a site form is posted, the employee's Telegram shows the
client card, and the employee takes the lead from that card. (Within how long: the benches,
"Appeared → card" p50/p99 beside a bare stack, README.)"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import pytest

from handlers.callbacks import LeadAction, LeadCallback
from models import Office
from tests import factories
from tests.chat import deliver, drain

TILDA = (Path(__file__).parent.parent / "fixtures" / "tilda" / "lead.urlencoded").read_text()


@pytest.fixture
async def polling(container):
    """The bot long-polls the fake Bot API, as `crm run` does without PUBLIC_URL."""
    task = asyncio.create_task(
        container.dispatcher.start_polling(
            container.bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    yield
    with contextlib.suppress(RuntimeError):
        await container.dispatcher.stop_polling()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_tilda_lead_to_card_to_take(web, container, fake_tg, clock, polling):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", shifts=factories.WEEKDAYS_9_TO_18)
    container.pump.start()

    response = await web.post(
        "/webhooks/forms/tilda?token=form-secret",
        data=TILDA,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    [sent] = await fake_tg.wait_for("sendMessage", timeout=10)
    assert sent.params["chat_id"] == anna.telegram_id
    text = sent.params["text"]
    for shown in ("Иван Петров", "+7 912 000-11-22", "form:tilda", "source=vk", "Новый клиент"):
        assert shown in text

    [card] = fake_tg.sent_messages(anna.telegram_id)
    lead_id = (await response.json())["lead_id"]
    fake_tg.push_update(
        fake_tg.callback_update(
            from_id=anna.telegram_id,
            message=card,
            data=LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack(),
        )
    )
    [answer] = await fake_tg.wait_for("answerCallbackQuery", timeout=3)
    assert answer.params["text"] == "Лид ваш"
    await fake_tg.wait_for("editMessageText", timeout=3)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Взял в работу: Анна" in card["text"]
    shortcuts = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    # Take's buttons gone; the client, the deal, and a task about the lead
    assert shortcuts == ["👤 Клиент", "💼 Сделка", "📌 Задача", "🆘 В поддержку"]


@pytest.mark.parametrize(
    ("office_zone", "earlier"),
    [(None, "1 дек. 2025, 10:00"), ("Asia/Novosibirsk", "1 дек. 2025, 14:00")],
    ids=["company zone", "office zone"],
)
async def test_a_returning_client_card_shows_the_earlier_contact_and_open_deal(
    web, container, fake_tg, clock, office_zone, earlier
):
    """The earlier contact's time is on the employee's clock: their office's zone if it has
    one, else the company's (Moscow here)."""
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Филиал")
        office = await s.get(Office, anna.office_id)
        office.timezone = office_zone
    headers = {"X-CRM-Token": "form-secret"}
    await web.post(
        "/webhooks/forms/site", json={"name": "Иван", "phone": "+79120001122"}, headers=headers
    )
    await container.pump.run_once()
    [first] = fake_tg.sent_messages(anna.telegram_id)
    lead_id = int(first["text"].split("#")[1].split("<")[0])
    update = fake_tg.callback_update(
        from_id=anna.telegram_id,
        message=first,
        data=LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack(),
    )
    await deliver(container, update)
    clock.advance(days=3)
    await web.post(
        "/webhooks/forms/tilda",
        data="Phone=8+912+000-11-22&tranid=1:2&token=form-secret",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    await container.pump.run_once()
    await container.pump.run_once()
    second = fake_tg.sent_messages(anna.telegram_id)[-1]
    assert "Клиент уже обращался" in second["text"]
    assert f"{earlier} · заявка form:site (целевой)" in second["text"]
    assert "Открытые сделки" in second["text"] and "Иван — Первичный контакт" in second["text"]


async def test_webhook_mode_updates_need_the_secret_header(web, container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        employee = await factories.employee(s, clock, name="Анна", telegram=False)
        code = employee.invite_code
    update = fake_tg.message_update(from_id=4242, text=f"/start {code}")
    wrong = await web.post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
    )
    assert wrong.status == 401
    assert fake_tg.calls("sendMessage") == []
    right = await web.post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    )
    assert right.status == 200
    await drain(container)  # answers go out through the outbox
    reply = fake_tg.calls("sendMessage")[0]
    assert reply.params["chat_id"] == 4242 and "привязан" in reply.params["text"]


async def test_in_webhook_mode_a_press_is_answered_in_the_webhook_reply(
    web, container, fake_tg, clock
):
    """Take's popup rides on the reply to Telegram's webhook request (Telegram performs it),
    not on a request of ours made while the lead's transaction is still open."""
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    posted = await web.post(
        "/webhooks/forms/site",
        json={"name": "Иван", "phone": "+79120001122"},
        headers={"X-CRM-Token": "form-secret"},
    )
    lead_id = (await posted.json())["lead_id"]
    await drain(container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    press = fake_tg.callback_update(
        from_id=anna.telegram_id,
        message=card,
        data=LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack(),
    )
    reply = await web.post(
        "/webhooks/telegram", json=press, headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    )
    assert reply.status == 200
    fields = {}
    reader = aiohttp.MultipartReader.from_response(reply)
    while (part := await reader.next()) is not None:
        fields[part.name] = await part.text()
    assert fields["method"] == "answerCallbackQuery"
    assert fields["callback_query_id"] == press["callback_query"]["id"]
    assert fields["text"] == "Лид ваш"
    assert fake_tg.calls("answerCallbackQuery") == []  # nothing asked of the Bot API for it
    await drain(container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Взял в работу: Анна" in card["text"]
