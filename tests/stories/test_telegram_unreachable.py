"""Telegram unreachable at start-up: intake runs at once, the bot connects when it can."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from app import BOT_CONNECTING, BOT_OK, Container, serve
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import crm, crm_run, environment, free_port

EMPLOYEE_CHAT = 4242


@pytest.fixture
def product(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`crm run` as a real process whose Bot API port is closed: (base URL, API port)."""
    http_port, api_port = free_port(), free_port()
    env = environment(
        tmp_path,
        HTTP_PORT=str(http_port),
        TELEGRAM_BOT_TOKEN=FakeTelegram().token,
        TELEGRAM_API_BASE=f"http://127.0.0.1:{api_port}",
        FORMS_TOKEN="form-secret",
    )
    add = ["employee", "add", "--name", "Анна", "--role", "employee"]
    added = crm(tmp_path, *add, "--telegram-id", str(EMPLOYEE_CHAT), env=env)
    assert added.returncode == 0, added.stderr
    with crm_run(tmp_path, env):
        yield f"http://127.0.0.1:{http_port}", api_port


async def health(http: aiohttp.ClientSession, base: str, *, until: str) -> dict:
    """Poll /healthz until the bot field says `until` (generous: a loaded machine)."""
    body: dict = {}
    for _ in range(600):
        try:
            async with http.get(f"{base}/healthz") as response:
                body = {**await response.json(), "http": response.status}
                if body.get("bot") == until:
                    return body
        except aiohttp.ClientConnectionError:
            pass  # not listening yet
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never said bot={until!r}; last: {body}")


async def test_leads_are_taken_while_telegram_is_down_and_delivered_once_it_is_up(product):
    base, api_port = product
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        state = await health(http, base, until=BOT_CONNECTING)
        assert state["http"] == 200 and state["status"] == "ok" and state["db"] == "ok"
        lead = {"name": "Иван Телеграмов", "phone": "8 912 000-11-22"}
        async with http.post(
            f"{base}/webhooks/forms/site?token=form-secret", json=lead
        ) as response:
            assert response.status == 200, await response.text()
        fake = FakeTelegram()
        await fake.start(port=api_port)  # Telegram comes back; the product is not restarted
        try:
            [sent] = await fake.wait_for(
                "sendMessage",
                timeout=90,
                predicate=lambda c: c.params.get("chat_id") == EMPLOYEE_CHAT,
            )
            assert "Иван Телеграмов" in sent.params["text"]
            assert (await health(http, base, until=BOT_OK))["http"] == 200
            await fake.wait_for("getUpdates", timeout=30)  # and the bot polls for updates
        finally:
            await fake.stop()


async def test_in_webhook_mode_the_bot_registers_its_webhook_once_telegram_answers(
    settings, clock, db
):
    api_port = free_port()
    settings = settings.model_copy(
        update={
            "public_url": "https://crm.example.ru",
            "telegram_api_base": f"http://127.0.0.1:{api_port}",
        }
    )
    container = Container.build(settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(container, {"bot"}, stop))
    fake = FakeTelegram()
    try:
        for _ in range(100):
            if container.bot_state == BOT_CONNECTING:
                break
            await asyncio.sleep(0.05)
        assert container.bot_state == BOT_CONNECTING and not task.done()
        await fake.start(port=api_port)
        [call] = await fake.wait_for("setWebhook", timeout=60)
        assert call.params["url"] == "https://crm.example.ru/webhooks/telegram"
        for _ in range(100):
            if container.bot_state == BOT_OK:
                break
            await asyncio.sleep(0.05)
        assert container.bot_state == BOT_OK
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await fake.stop()


def test_reconnect_waits_grow_from_a_second_to_at_most_about_a_minute() -> None:
    from app import reconnect_delay

    waits = [reconnect_delay(n) for n in range(12)]
    assert 0.8 <= waits[0] <= 1.2 and 1.6 <= waits[1] <= 2.4
    assert all(48 <= w <= 72 for w in waits[6:])  # capped at 60 s, ±20% jitter
