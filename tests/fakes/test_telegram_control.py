"""Trying the bot by hand: the fake Bot API's control interface plays the Telegram user."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from app import Container, serve
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import crm, crm_run, environment, free_port, wait_for_line

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7000000001:AAE-fake"
ANNA = 4242


@pytest.fixture
def standalone_fake() -> Iterator[str]:
    """`python -m tests.fakes.telegram_api --port …` as in the README; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.telegram_api", "--port", str(port), "--quiet"]
    process = subprocess.Popen(
        [*command, "--token", TOKEN], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert "Fake Telegram Bot API on" in process.stdout.readline()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def fake(base: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.fakes.telegram_api", "--fake", base, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def chat_until(base: str, shown: str, timeout: float = 60) -> str:
    """What `messages --chat 4242` prints, once it shows `shown` (the bot works async)."""
    deadline = time.monotonic() + timeout
    while True:
        listing = fake(base, "messages", "--chat", str(ANNA))
        assert listing.returncode == 0, listing.stderr
        if shown in listing.stdout or time.monotonic() > deadline:
            assert shown in listing.stdout
            return listing.stdout
        time.sleep(0.2)


def test_an_employee_binds_telegram_and_takes_a_lead_by_pressing_the_button(
    tmp_path, standalone_fake
):
    http_port = free_port()
    env = environment(
        tmp_path,
        HTTP_PORT=str(http_port),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=standalone_fake,
        FORMS_TOKEN="form-secret",
    )
    added = crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee", env=env)
    assert added.returncode == 0, added.stderr
    code = re.search(r"start=(\S+)", added.stdout).group(1)  # the t.me invite link
    with crm_run(tmp_path, env) as log:
        wait_for_line(log, "Telegram bot polling")
        sent = fake(standalone_fake, "send", "--from", str(ANNA), f"/start {code}")
        assert sent.returncode == 0 and f"sent as {ANNA}" in sent.stdout, sent.stderr
        chat_until(standalone_fake, "Готово, Анна")
        lead = {"name": "Иван", "phone": "8 912 000-11-22"}
        _post_form(http_port, lead)
        card = chat_until(standalone_fake, "Новый лид")
        assert "[✅ Взять]" in card and "Иван" in card
        wrong = fake(standalone_fake, "press", "--chat", str(ANNA), "--button", "Купить")
        assert wrong.returncode == 1 and "'✅ Взять', 'Нецелевой', 'Спам'" in wrong.stderr
        pressed = fake(standalone_fake, "press", "--chat", str(ANNA), "--button", "взять")
        assert pressed.returncode == 0, pressed.stderr
        assert "Лид ваш" in pressed.stdout
        edited = chat_until(standalone_fake, "Взял в работу: Анна")
        assert "(edited 1x)" in edited and "[✅ Взять]" not in edited


def _post_form(port: int, lead: dict) -> None:
    async def post() -> int:
        url = f"http://127.0.0.1:{port}/webhooks/forms/site?token=form-secret"
        async with aiohttp.ClientSession() as http, http.post(url, json=lead) as response:
            return response.status

    assert asyncio.run(post()) == 200


async def test_in_webhook_mode_a_sent_message_reaches_the_bots_webhook(settings, clock, db):
    port = free_port()
    tg = FakeTelegram()
    await tg.start()
    settings = settings.model_copy(
        update={
            "telegram_api_base": tg.base_url,
            "http_port": port,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    stop = asyncio.Event()
    container = Container.build(settings, clock=clock)
    task = asyncio.create_task(serve(container, {"web", "bot", "worker"}, stop))
    try:
        await tg.wait_for("setWebhook", timeout=30)
        async with aiohttp.ClientSession() as http:
            body = {"from_id": 555, "text": "/start"}
            async with http.post(f"{tg.base_url}/_fake/send", json=body) as response:
                assert response.status == 200
        [reply] = await tg.wait_for("sendMessage", timeout=30)
        assert reply.params["chat_id"] == 555 and "Здравствуйте" in reply.params["text"]
        assert not tg.calls("getUpdates")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await tg.stop()
