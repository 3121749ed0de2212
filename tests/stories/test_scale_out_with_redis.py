"""Scale-out: a web process takes the lead, a separate worker process sends the card, woken
through Redis at once rather than at its next poll; health reports Redis."""

from __future__ import annotations

import asyncio
import time

from app import Container
from tests import factories
from tests.conftest import REDIS_URL
from webhooks.server import build_web_app


async def test_a_worker_in_another_process_is_woken_through_redis(
    settings, clock, db, fake_tg, redis, aiohttp_client
):
    settings = settings.model_copy(update={"redis_url": REDIS_URL})
    web_side, worker = (
        Container.build(settings, clock=clock),
        Container.build(settings, clock=clock),
    )
    try:
        worker.make_pump(poll_interval=30)  # it would not look on its own for half a minute
        worker.wire_outbox_nudges()
        worker.pump.start()
        listener = asyncio.create_task(worker.listen_for_nudges())
        web_side.wire_outbox_nudges()
        await asyncio.sleep(0.2)  # the subscription is in place
        async with web_side.db.unit_of_work() as s:
            anna = await factories.employee(s, clock, name="Анна")
        client = await aiohttp_client(build_web_app(web_side))
        started = time.monotonic()
        response = await client.post(
            "/webhooks/forms/site",
            json={"phone": "+79120001122"},
            headers={"X-CRM-Token": "form-secret"},
        )
        assert response.status == 200
        [card] = await fake_tg.wait_for("sendMessage", timeout=3)
        assert time.monotonic() - started < 1.5
        assert card.params["chat_id"] == anna.telegram_id
        health = await (await client.get("/healthz")).json()
        assert health == {"status": "ok", "db": "ok", "redis": "ok", "bot": "off"}  # web only
        listener.cancel()
    finally:
        await web_side.close()
        await worker.close()


async def test_bot_state_lives_in_redis_when_configured(settings, clock, db, fake_tg, redis):
    from aiogram.fsm.storage.redis import RedisStorage

    container = Container.build(settings.model_copy(update={"redis_url": REDIS_URL}), clock=clock)
    try:
        assert isinstance(container.dispatcher.storage, RedisStorage)
    finally:
        await container.close()
