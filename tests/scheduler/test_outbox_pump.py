"""The outbox pump delivers cards to (fake) Telegram: after commit, once, in order, within
the rate limits, and it survives failures and restarts."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
import sqlalchemy as sa

from bot.telegram.sender import TelegramSender
from models import Channel, OutboxLane, OutboxMessage, OutboxStatus
from scheduler.outbox_pump import OutboxPump
from scheduler.rate_limit import MemoryRateLimiter, bulk_lane
from services import leads, outbox
from tests import factories


async def new_lead(container, phone: str = "+79120001122", name: str = "Иван") -> int:
    async with container.db.unit_of_work() as s:
        result = await leads.register_incoming(
            s, leads.LeadIn(source="form:site", phone=phone, name=name), company=container.company
        )
    return result.lead_id


async def rows(container) -> list[OutboxMessage]:
    async with container.db.unit_of_work() as s:
        return list(
            (await s.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


@pytest.fixture
async def anna(container, clock):
    async with container.db.unit_of_work() as s:
        return await factories.employee(s, clock, name="Анна")


async def test_the_card_reaches_the_employee_right_after_commit(container, fake_tg, anna):
    container.pump.start()
    started = time.monotonic()
    await new_lead(container)
    [call] = await fake_tg.wait_for("sendMessage", timeout=2)
    assert time.monotonic() - started < 1.0
    assert call.params["chat_id"] == anna.telegram_id
    text = call.params["text"]
    assert "Иван" in text and "+7 912 000-11-22" in text and "form:site" in text
    assert "Новый клиент" in text
    buttons = [b["text"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["✅ Взять", "Нецелевой", "Спам", "👤 Клиент", "📌 Задача", "🆘 В поддержку"]
    await asyncio.sleep(0.1)
    [row] = await rows(container)
    assert row.status is OutboxStatus.SENT and row.provider_message_id == "1"


async def test_nothing_is_sent_for_work_that_rolled_back(container, fake_tg, anna):
    container.pump.start()
    with pytest.raises(RuntimeError):
        async with container.db.unit_of_work() as s:
            await leads.register_incoming(
                s, leads.LeadIn(source="form:site", phone="+79120001122"), company=container.company
            )
            raise RuntimeError("boom after the card was written")
    await asyncio.sleep(0.3)
    assert fake_tg.calls("sendMessage") == []
    assert await rows(container) == []


async def test_server_errors_are_retried_with_growing_backoff(container, fake_tg, anna, clock):
    fake_tg.fail_next("sendMessage", status=502, description="Bad Gateway", times=2)
    await new_lead(container)
    pump = container.pump
    assert await pump.run_once() == 1
    [row] = await rows(container)
    assert row.status is OutboxStatus.FAILED and "Bad Gateway" in row.last_error
    first_delay = (row.next_attempt_at - clock.now()).total_seconds()
    assert await pump.run_once() == 0  # not due yet
    clock.advance(seconds=first_delay + 0.01)
    assert await pump.run_once() == 1
    [row] = await rows(container)
    second_delay = (row.next_attempt_at - clock.now()).total_seconds()
    assert second_delay > first_delay
    clock.advance(seconds=second_delay + 0.01)
    assert await pump.run_once() == 1
    [row] = await rows(container)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)
    assert len(fake_tg.sent_messages(anna.telegram_id)) == 1


async def test_a_429_waits_exactly_retry_after(container, fake_tg, anna, clock):
    fake_tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    await new_lead(container)
    await container.pump.run_once()
    [row] = await rows(container)
    assert (row.next_attempt_at - clock.now()).total_seconds() == pytest.approx(7)
    clock.advance(seconds=6.9)
    assert await container.pump.run_once() == 0
    clock.advance(seconds=0.2)
    assert await container.pump.run_once() == 1
    assert len(fake_tg.sent_messages(anna.telegram_id)) == 1


async def test_a_timeout_is_retried(container, fake_tg, anna, clock):
    container.pump.senders[Channel.TELEGRAM] = TelegramSender(container.bot, request_timeout=0.3)
    fake_tg.delay_next("sendMessage", 1.0)
    await new_lead(container)
    await container.pump.run_once()
    [row] = await rows(container)
    assert row.status is OutboxStatus.FAILED and "timeout" in row.last_error.lower()


async def test_a_user_who_blocked_the_bot_is_not_retried(container, fake_tg, anna, clock):
    fake_tg.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    await new_lead(container)
    await container.pump.run_once()
    clock.advance(hours=1)
    assert await container.pump.run_once() == 0
    [row] = await rows(container)
    assert row.status is OutboxStatus.DEAD and "blocked" in row.last_error


async def test_a_restart_loses_nothing_and_sends_nothing_twice(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        people = [await factories.employee(s, clock, name=f"E{i}") for i in range(4)]
    for i in range(4):
        clock.advance(seconds=1)
        await new_lead(container, phone=f"+7912000111{i}")
    # The first process delivers one card, then dies holding a claim on two more.
    async with container.db.unit_of_work() as s:
        first = await outbox.claim_due(s, now=clock.now(), limit=1)
    await container.pump.deliver(first[0])
    async with container.db.unit_of_work() as s:
        crashed = await outbox.claim_due(s, now=clock.now(), limit=2)
    assert len(crashed) == 2
    # A new process: the unclaimed card goes at once, the crashed claims after their lease.
    senders = {Channel.TELEGRAM: TelegramSender(container.bot)}
    fresh = OutboxPump(container.db, senders, {}, clock)
    assert await fresh.run_once() == 1
    clock.advance(seconds=61)
    assert await fresh.run_once() == 2
    assert await fresh.run_once() == 0
    per_chat = {p.telegram_id: len(fake_tg.sent_messages(p.telegram_id)) for p in people}
    assert per_chat == {p.telegram_id: 1 for p in people}
    assert {r.status for r in await rows(container)} == {OutboxStatus.SENT}


async def test_messages_to_one_chat_keep_their_order_even_when_one_fails(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        for i in range(3):
            await outbox.enqueue(
                s,
                channel=Channel.TELEGRAM,
                recipient=42,
                kind="text",
                payload={"text": f"message {i}"},
                now=clock.now(),
            )
    fake_tg.fail_next("sendMessage", status=500, description="Internal Server Error")
    for _ in range(8):
        await container.pump.run_once()
        clock.advance(seconds=5)
    assert [m["text"] for m in fake_tg.sent_messages(42)] == ["message 0", "message 1", "message 2"]


async def test_never_more_than_30_per_second_overall_or_1_per_second_per_chat(
    container, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        for chat in range(1, 46):
            await outbox.enqueue(
                s,
                channel=Channel.TELEGRAM,
                recipient=chat,
                kind="text",
                payload={"text": "hello"},
                now=clock.now(),
            )
        for i in range(3):
            await outbox.enqueue(
                s,
                channel=Channel.TELEGRAM,
                recipient=999,
                kind="text",
                payload={"text": f"burst {i}"},
                now=clock.now(),
            )
    slots: list[tuple[str, float]] = []

    class Recording(MemoryRateLimiter):
        async def acquire(self, key: str) -> float:
            slot = await super().acquire(key)
            slots.append((key, slot))
            return slot

    container.pump.limiters[Channel.TELEGRAM] = Recording(30, 1.0)
    container.pump.start()
    await fake_tg.wait_for("sendMessage", count=48, timeout=10)
    # The limits are kept on the reserved send slots: exact, whatever the machine's load.
    starts = sorted(t for _, t in slots)
    assert len(starts) == 48
    assert max(sum(1 for t in starts if s0 <= t < s0 + 1.1) for s0 in starts) <= 30
    same = sorted(t for k, t in slots if k == "999")
    assert len(same) == 3 and all(b - a >= 1.0 for a, b in itertools.pairwise(same))
    # What Telegram sees follows them (arrivals jitter by the event loop's latency).
    arrivals = sorted(c.at for c in fake_tg.calls("sendMessage"))
    assert max(sum(1 for t in arrivals if s0 <= t < s0 + 0.9) for s0 in arrivals) <= 30
    same_chat = [c.at for c in fake_tg.calls("sendMessage") if c.params["chat_id"] == 999]
    assert all(b - a >= 0.5 for a, b in itertools.pairwise(same_chat))


async def test_two_workers_share_the_outbox_without_sending_anything_twice(
    container, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        for i in range(2):
            for chat in range(1, 21):
                await outbox.enqueue(
                    s,
                    channel=Channel.TELEGRAM,
                    recipient=chat,
                    kind="text",
                    payload={"text": f"{chat}:{i}"},
                    now=clock.now(),
                )
    senders = {Channel.TELEGRAM: TelegramSender(container.bot)}
    workers = [OutboxPump(container.db, senders, {}, clock, batch=7) for _ in range(2)]

    async def drain(pump: OutboxPump) -> None:
        for _ in range(30):
            await pump.run_once()

    await asyncio.gather(*(drain(w) for w in workers))
    sent = [c.params["text"] for c in fake_tg.calls("sendMessage")]
    assert sorted(sent) == sorted(f"{chat}:{i}" for chat in range(1, 21) for i in range(2))
    for chat in range(1, 21):
        assert [m["text"] for m in fake_tg.sent_messages(chat)] == [f"{chat}:0", f"{chat}:1"]


async def test_a_new_card_does_not_wait_behind_an_edit_of_an_older_one(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        first = await outbox.enqueue(
            s,
            channel=Channel.TELEGRAM,
            recipient=42,
            kind="text",
            payload={"text": "first card"},
            now=clock.now(),
        )
    await container.pump.run_once()
    fake_tg.fail_next("editMessageText", status=500, description="Internal Server Error")
    async with container.db.unit_of_work() as s:
        await outbox.enqueue(
            s,
            channel=Channel.TELEGRAM,
            recipient=42,
            kind="text",
            payload={"text": "first card, edited"},
            now=clock.now(),
            edit_of_id=first,
        )
        await outbox.enqueue(
            s,
            channel=Channel.TELEGRAM,
            recipient=42,
            kind="text",
            payload={"text": "second card"},
            now=clock.now(),
        )
    await container.pump.run_once()  # the edit fails and waits for its retry
    assert [m["text"] for m in fake_tg.sent_messages(42)] == ["first card", "second card"]


async def test_a_stopped_pump_hands_back_what_telegram_did_not_answer(
    container, fake_tg, anna, clock
):
    container.pump.grace = 0.5
    container.pump.start()
    fake_tg.hold_next("sendMessage")  # Telegram takes the request and never answers
    await new_lead(container)
    await fake_tg.wait_for("sendMessage")
    await container.pump.stop()  # a deploy: the grace runs out
    [row] = await rows(container)
    assert (row.status, row.attempts, row.claimed_until) == (OutboxStatus.PENDING, 0, None)
    # The next process sends it at once, without waiting for any lease (the clock stands still).
    fresh = OutboxPump(container.db, {Channel.TELEGRAM: TelegramSender(container.bot)}, {}, clock)
    assert await fresh.run_once() == 1
    assert len(fake_tg.sent_messages(anna.telegram_id)) == 1


async def test_a_stop_that_cuts_a_claim_short_still_hands_it_back(
    container, fake_tg, anna, clock, monkeypatch
):
    """A deploy's stop lands while a claim is on its way back from the database (seen on a
    loaded machine): the claimed card must go out at once from the next process, not sit
    claimed by nobody until its 20 s lease runs out."""
    claimed, real_claim = asyncio.Event(), outbox.claim_due

    async def slow_claim(session, **kw):  # type: ignore[no-untyped-def]
        rows = await real_claim(session, **kw)
        if rows:
            await session.commit()  # the claim has reached the database ...
            claimed.set()
            await asyncio.sleep(0.3)  # ... and its answer is still on the way when stop comes
        return rows

    monkeypatch.setattr(outbox, "claim_due", slow_claim)
    await new_lead(container)
    container.pump.start()
    await claimed.wait()
    await container.pump.stop()
    [row] = await rows(container)
    assert (row.status, row.attempts, row.claimed_until) == (OutboxStatus.PENDING, 0, None)
    assert fake_tg.calls("sendMessage") == []
    monkeypatch.setattr(outbox, "claim_due", real_claim)
    fresh = OutboxPump(container.db, {Channel.TELEGRAM: TelegramSender(container.bot)}, {}, clock)
    assert await fresh.run_once() == 1  # the clock stands still: no lease had to run out
    assert len(fake_tg.sent_messages(anna.telegram_id)) == 1


async def test_a_claim_in_hand_is_kept_past_its_lease(container, fake_tg, anna, clock, monkeypatch):
    from scheduler import outbox_pump

    monkeypatch.setattr(outbox_pump, "HEARTBEAT", 0.05, raising=False)
    container.pump.start()
    fake_tg.hold_next("sendMessage")
    await new_lead(container)
    await fake_tg.wait_for("sendMessage")
    other = OutboxPump(container.db, {Channel.TELEGRAM: TelegramSender(container.bot)}, {}, clock)
    for _ in range(5):  # 75 s pass while the send waits; the lease is renewed all along
        clock.advance(seconds=15)
        await asyncio.sleep(0.3)
        assert await other.run_once() == 0
    fake_tg.release_held()
    await fake_tg.wait_for("sendMessage", predicate=lambda c: c.status == 200)
    await asyncio.sleep(0.3)
    [row] = await rows(container)
    assert row.status is OutboxStatus.SENT
    assert len(fake_tg.sent_messages(anna.telegram_id)) == 1


async def test_a_card_that_keeps_failing_is_given_up_after_12_attempts(
    container, fake_tg, anna, clock
):
    fake_tg.fail_next("sendMessage", status=502, description="Bad Gateway", times=20)
    await new_lead(container)
    for _ in range(15):
        await container.pump.run_once()
        clock.advance(seconds=400)  # past the longest backoff (5 minutes)
    [row] = await rows(container)
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 12)
    assert "Bad Gateway" in row.last_error
    assert len(fake_tg.calls("sendMessage")) == 12


async def test_the_pump_stops_when_told_to_just_as_it_is_woken(container):
    """A commit's nudge and the process's shutdown in the same instant: the pump still stops
    (on Python 3.11 asyncio.wait_for swallowed that cancel and shutdown waited forever)."""
    pump = container.pump
    for _ in range(20):
        pump.start()
        await asyncio.sleep(0.05)  # idle, waiting to be woken
        pump.nudge()
        await asyncio.sleep(0)  # the wake-up is under way ...
        await asyncio.wait_for(pump.stop(), 3)  # ... as the stop arrives


async def test_a_card_waits_a_fraction_of_a_second_behind_a_broadcast_not_its_backlog(
    container, fake_tg, clock
):
    """120 broadcast messages are due (five seconds of sending at 30 a second); a card
    written meanwhile finds a free slot in the rate window at once: the broadcast takes
    only its share of the rate."""
    async with container.db.unit_of_work() as s:
        await outbox.enqueue_many(
            s,
            [
                outbox.Outgoing(
                    Channel.TELEGRAM, chat, "text", {"text": "sale"}, lane=OutboxLane.BULK
                )
                for chat in range(1, 121)
            ],
            now=clock.now(),
        )
    waits: dict[str, float] = {}

    class Recording(MemoryRateLimiter):
        async def acquire(self, key: str) -> float:
            asked = time.monotonic()
            slot = await super().acquire(key)
            waits[key] = slot - asked
            return slot

    container.pump.limiters[Channel.TELEGRAM] = Recording(30, 1.0)
    container.pump.bulk[Channel.TELEGRAM] = bulk_lane(30, lambda rate: MemoryRateLimiter(rate, 0))
    container.pump.start()
    await fake_tg.wait_for("sendMessage", count=30, timeout=5)
    async with container.db.unit_of_work() as s:
        await outbox.enqueue(
            s,
            channel=Channel.TELEGRAM,
            recipient=999,
            kind="text",
            payload={"text": "card"},
            now=clock.now(),
        )
    [card] = await fake_tg.wait_for(
        "sendMessage", predicate=lambda c: c.params["chat_id"] == 999, timeout=3
    )
    broadcast_sent = [c for c in fake_tg.calls("sendMessage") if c.params["chat_id"] != 999]
    assert len(broadcast_sent) < 110  # the card did not wait for the broadcast to end
    assert card.params["text"] == "card"
    assert waits["999"] < 0.05  # the rate limit held it up no time at all
    await fake_tg.wait_for("sendMessage", count=121, timeout=10)
    assert len({c.params["chat_id"] for c in fake_tg.calls("sendMessage")}) == 121
