"""Redis going away and coming back (a throwaway redis-server, never the machine's shared one):
cards keep flowing meanwhile, and nudges between processes resume without a restart."""

from __future__ import annotations

import asyncio
import time

from app import Container
from services.clock import SystemClock
from tests.faults.conftest import Leads, each_once, staff, start_live
from webhooks.server import build_web_app


async def test_cards_keep_flowing_while_redis_is_away(
    live_settings, fake_tg, pg, throwaway_redis, aiohttp_client
):
    await staff(pg, 2)
    settings = live_settings.model_copy(update={"redis_url": throwaway_redis.url})
    product = await start_live(settings)
    try:
        client = await aiohttp_client(build_web_app(product))
        leads = Leads()
        await leads.post(client)
        await each_once(fake_tg, leads.acknowledged, within=5)
        throwaway_redis.kill()
        await leads.post(client, 2)
        await each_once(fake_tg, leads.acknowledged, within=10)
        throwaway_redis.start()
        shared, window = throwaway_redis.client(), f"{settings.redis_prefix}:rl:telegram:window"
        try:  # back on the shared limits (Redis is asked again every second)
            started = time.monotonic()
            while not await shared.exists(window):
                assert time.monotonic() - started < 10, "the limiter did not return to Redis"
                await leads.post(client)
                await asyncio.sleep(0.5)
        finally:
            await shared.aclose()
        await each_once(fake_tg, leads.acknowledged, within=5)
    finally:
        await product.close()


async def test_a_worker_is_woken_through_redis_again_after_it_restarts(
    live_settings, fake_tg, pg, throwaway_redis, aiohttp_client
):
    await staff(pg, 1)
    settings = live_settings.model_copy(update={"redis_url": throwaway_redis.url})
    worker = await start_live(settings, poll_interval=30)  # would not look on its own for 30 s
    worker.spawn(worker.listen_for_nudges())
    web_side = Container.build(settings, clock=SystemClock())  # `crm run --only web`
    web_side.wire_outbox_nudges()
    try:
        client = await aiohttp_client(build_web_app(web_side))
        channel = worker.outbox_channel

        async def listening() -> bool:
            probe = throwaway_redis.client()
            try:
                return (await probe.pubsub_numsub(channel))[0][1] >= 1
            except Exception:
                return False
            finally:
                await probe.aclose()

        async def until_listening() -> None:
            deadline = time.monotonic() + 10
            while not await listening():
                assert time.monotonic() < deadline, "the worker did not subscribe again"
                await asyncio.sleep(0.1)

        await until_listening()
        throwaway_redis.kill()
        await asyncio.sleep(1.5)
        throwaway_redis.start()
        await until_listening()  # reconnected with a short, capped backoff
        leads = Leads()
        await leads.post(client)
        await each_once(fake_tg, leads.acknowledged, within=5)  # a nudge, not the 30 s poll
    finally:
        await web_side.close()
        await worker.close()
