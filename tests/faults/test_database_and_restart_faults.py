"""The database dropping connections and the product being stopped: a result waits until it
can be recorded (never a second card a lease later), and a graceful stop hands back what it
did not finish, so the next process sends it at once."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from models import OutboxMessage
from tests.conftest import PG_TEST_DB, _pg_admin
from tests.faults.conftest import (
    Leads,
    all_sent,
    copies,
    each_once,
    staff,
    start_live,
    wait_until,
)

TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    f"WHERE datname = '{PG_TEST_DB}' AND pid <> pg_backend_pid()"
)


async def rows(db) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with db.unit_of_work() as s:
        return list((await s.execute(sa.select(OutboxMessage))).scalars())


async def test_connections_dropped_while_sends_wait_for_telegram(live, client, fake_tg, pg):
    await staff(pg, 3)
    leads = Leads()
    fake_tg.hold_next("sendMessage", times=3)  # three cards out, answers not back yet
    await leads.post(client, 3)
    await fake_tg.wait_for("sendMessage")
    await _pg_admin(TERMINATE)  # every pooled connection of the product is gone
    fake_tg.release_held()
    # More leads while the pool is full of dead connections: accepted (pre-ping), delivered.
    await leads.post(client, 3)
    assert leads.refused == []
    await each_once(fake_tg, leads.acknowledged, within=10)
    assert await all_sent(pg)
    assert {r.attempts for r in await rows(pg)} == {1}  # each result recorded first time


async def test_a_result_waits_out_a_database_outage_instead_of_being_sent_again(
    live, client, fake_tg, pg
):
    """The database refuses every connection for ~3 s right as Telegram answers: recording the
    result is retried until it lands; the card is not sent a second time."""
    await staff(pg, 1)
    leads = Leads()
    fake_tg.hold_next("sendMessage")
    await leads.post(client)
    await fake_tg.wait_for("sendMessage")
    stop = asyncio.Event()

    async def keep_killing() -> None:
        while not stop.is_set():
            await _pg_admin(TERMINATE)
            await asyncio.sleep(0.02)

    killer = asyncio.create_task(keep_killing())
    await asyncio.sleep(0.2)
    fake_tg.release_held()
    await asyncio.sleep(3)
    stop.set()
    await killer

    assert await all_sent(pg, within=10)
    # The result landed: the row is settled and will never be claimed again. One card.
    await asyncio.sleep(0.5)
    assert copies(fake_tg, leads.acknowledged[0]) == 1


async def test_a_graceful_stop_hands_back_unfinished_sends(live_settings, fake_tg, pg):
    """SIGTERM in a deploy: sends still waiting for Telegram after the grace period are handed
    back, and the next process delivers them at once instead of after the lease."""
    await staff(pg, 2)
    first = await start_live(live_settings)
    first.pump.grace = 1.0
    fake_tg.hold_next("sendMessage")  # Telegram does not answer the first card
    leads = Leads()
    from aiohttp.test_utils import TestClient, TestServer

    from webhooks.server import build_web_app

    async with TestClient(TestServer(build_web_app(first))) as http:
        await leads.post(http, 2)
        await fake_tg.wait_for("sendMessage")
        await first.close()  # the grace runs out with both sends unanswered
    second = await start_live(live_settings)
    try:
        took = await wait_until(
            lambda: (
                all(copies(fake_tg, n) >= 1 for n in leads.acknowledged)
                and len([c for c in fake_tg.calls("sendMessage") if c.status == 200]) >= 2
            ),
            within=15,  # room for a loaded CI machine; the lease is 20 s
        )
        assert took < 15  # not the 20 s lease
        assert await all_sent(pg)
        assert {n: copies(fake_tg, n) for n in leads.acknowledged} == dict.fromkeys(
            leads.acknowledged, 1
        )
        assert {r.attempts for r in await rows(pg)} == {1}  # the cut attempt did not count
    finally:
        await second.close()
