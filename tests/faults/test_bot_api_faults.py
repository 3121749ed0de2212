"""The Bot API misbehaving: errors, limits, silence, an outage, a user who blocked the bot.
After each, every acknowledged lead's card reaches its employee exactly once, and the product
is back to normal within 10 s without a restart."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa

from bot.telegram.sender import TelegramSender
from models import Channel, OutboxMessage, OutboxStatus
from tests.faults.conftest import Leads, all_sent, copies, each_once, staff, wait_until


async def statuses(db) -> list[OutboxStatus]:  # type: ignore[no-untyped-def]
    async with db.unit_of_work() as s:
        return list((await s.execute(sa.select(OutboxMessage.status))).scalars())


async def test_server_errors_delay_cards_by_the_backoff_only(live, client, fake_tg, pg):
    await staff(pg, 3)
    fake_tg.fail_next("sendMessage", status=502, description="Bad Gateway", times=3)
    leads = Leads()
    await leads.post(client, 6)
    assert leads.refused == []
    # Three failures on one card at worst: 1 + 2 + 4 s of backoff (±20%).
    await each_once(fake_tg, leads.acknowledged, within=15)
    assert [c.status for c in fake_tg.calls("sendMessage")].count(502) == 3


async def test_a_429_waits_its_retry_after_then_the_card_goes_once(live, client, fake_tg, pg):
    await staff(pg, 1)
    fake_tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 2", retry_after=2
    )
    leads = Leads()
    await leads.post(client)
    await each_once(fake_tg, leads.acknowledged, within=10)
    refused, accepted = fake_tg.calls("sendMessage")
    assert refused.status == 429 and accepted.status == 200
    assert accepted.at - refused.at >= 1.9


async def test_one_hanging_send_holds_up_only_its_own_chat(live, client, fake_tg, pg):
    anna, boris = await staff(pg, 2)
    fake_tg.hold_next("sendMessage")  # the first card: Telegram takes it and says nothing
    leads = Leads()
    await leads.post(client)
    [held] = await fake_tg.wait_for("sendMessage")
    # Turns come from a database sequence, so either may be first; the other is next.
    other = boris if held.params["chat_id"] == anna else anna
    started = time.monotonic()
    await leads.post(client)  # the other's card must not wait for that answer (15 s timeout)
    await fake_tg.wait_for("sendMessage", predicate=lambda c: c.status == 200, timeout=5)
    assert time.monotonic() - started < 3
    assert [m["chat_id"] for m in fake_tg.sent_messages()] == [other]
    fake_tg.release_held()
    await each_once(fake_tg, leads.acknowledged, within=5)
    assert await all_sent(pg)


async def test_a_send_that_times_out_is_retried_and_may_arrive_twice_only_then(
    live, client, fake_tg, pg
):
    """The one documented duplicate: Telegram took the message but its answer never came
    within the request timeout, so the product cannot know and sends it again."""
    await staff(pg, 1)
    live.pump.senders[Channel.TELEGRAM] = TelegramSender(live.bot, request_timeout=1)
    fake_tg.hold_next("sendMessage")
    leads = Leads()
    await leads.post(client, 2)
    [first] = await fake_tg.wait_for("sendMessage")
    # The client gave up on the held request; the retry is delivered (backoff ~1 s).
    await wait_until(lambda: copies(fake_tg, leads.acknowledged[0]) == 1, within=10)
    fake_tg.release_held()  # Telegram's side finishes the first request after all
    await wait_until(lambda: copies(fake_tg, leads.acknowledged[0]) == 2, within=15)
    await wait_until(lambda: copies(fake_tg, leads.acknowledged[1]) == 1, within=10)
    await asyncio.sleep(0.5)
    # Exactly the card whose answer timed out is doubled; nothing else.
    assert first.params["text"].count(leads.acknowledged[0]) == 1
    assert {n: copies(fake_tg, n) for n in leads.acknowledged} == {
        leads.acknowledged[0]: 2,
        leads.acknowledged[1]: 1,
    }


async def test_twenty_seconds_of_refused_connections(live, client, fake_tg, pg):
    await staff(pg, 2)
    await fake_tg.refuse_connections()
    leads = Leads()
    await leads.post(client, 4)  # intake does not need Telegram
    assert leads.refused == []
    await asyncio.sleep(20)
    assert fake_tg.sent_messages() == []
    async with pg.unit_of_work() as s:  # when each card's backoff would let it go again
        waiting = dict(
            (await s.execute(sa.select(OutboxMessage.id, OutboxMessage.next_attempt_at))).all()
        )
    await fake_tg.accept_connections()
    # Back: the cards waiting out their backoff go as soon as one send succeeds again, not
    # when their backoff runs out (judged by the pump's own records, whatever the load).
    await leads.post(client)
    await each_once(fake_tg, leads.acknowledged, within=30)
    assert await all_sent(pg)
    async with pg.unit_of_work() as s:
        sent = dict((await s.execute(sa.select(OutboxMessage.id, OutboxMessage.sent_at))).all())
    assert all(sent[row] < due for row, due in waiting.items()), (sent, waiting)


async def test_a_user_who_blocked_the_bot_does_not_hold_up_the_others(live, client, fake_tg, pg):
    anna, boris = await staff(pg, 2)
    fake_tg.fail_chat(anna, status=403, description="Forbidden: bot was blocked by the user")
    leads = Leads()
    await leads.post(client, 6)
    # Boris's three cards arrive, one by one or (under load) gathered into one digest.
    delivered = lambda: sum(copies(fake_tg, n) for n in leads.acknowledged)  # noqa: E731
    await wait_until(lambda: delivered() == 3, within=15)
    await asyncio.sleep(0.5)
    assert {m["chat_id"] for m in fake_tg.sent_messages()} == {boris}
    assert delivered() == 3 and max(copies(fake_tg, n) for n in leads.acknowledged) == 1
    # Anna's cards were tried once (each, or once as a digest) and are dead with the reason
    # kept, not retried.
    async with pg.unit_of_work() as s:
        rows = (await s.execute(sa.select(OutboxMessage))).scalars().all()
    dead = [r for r in rows if r.recipient == str(anna)]
    assert len(dead) == 3 and {r.status for r in dead} == {OutboxStatus.DEAD}
    assert all("blocked" in r.last_error for r in dead)
    to_anna = [c for c in fake_tg.calls("sendMessage") if c.params["chat_id"] == anna]
    assert 1 <= len(to_anna) <= 3 and {c.status for c in to_anna} == {403}
