"""How `crm run` connects the bot: long polling without PUBLIC_URL, a webhook with it."""

from __future__ import annotations

import asyncio

from app import Container, serve
from models import Role
from services.leads import intake
from tests import factories


async def run_briefly(container: Container, roles: set[str], until) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(container, roles, stop))
    try:
        await until()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_without_public_url_the_bot_long_polls(settings, clock, db, fake_tg):
    container = Container.build(settings, clock=clock)
    await run_briefly(container, {"bot"}, lambda: fake_tg.wait_for("getUpdates", timeout=5))
    assert fake_tg.calls("deleteWebhook") and not fake_tg.calls("setWebhook")


async def test_with_public_url_the_bot_registers_its_webhook_with_the_secret(
    settings, clock, db, fake_tg
):
    settings = settings.model_copy(update={"public_url": "https://crm.example.ru"})
    container = Container.build(settings, clock=clock)
    await run_briefly(container, {"bot"}, lambda: fake_tg.wait_for("setWebhook", timeout=5))
    [call] = fake_tg.calls("setWebhook")
    assert call.params["url"] == "https://crm.example.ru/webhooks/telegram"
    assert call.params["secret_token"] == "tg-secret"
    assert "callback_query" in call.params["allowed_updates"]
    assert not fake_tg.calls("getUpdates")


async def test_an_english_speaking_employee_gets_the_card_in_english(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        emma = await factories.employee(s, clock, name="Emma", role=Role.EMPLOYEE, locale="en")
        await intake.register_incoming(
            s,
            intake.LeadIn(source="form:site", phone="+79120001122", name="John"),
            company=container.company,
        )
    await container.pump.run_once()
    [card] = fake_tg.sent_messages(emma.telegram_id)
    assert "New lead" in card["text"] and "New client" in card["text"]
    buttons = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["✅ Take", "Non-target", "Spam", "👤 Client", "📌 Task", "🆘 To support"]
