"""Reminders reach the assignee in Telegram at the due time, with Done and Snooze; a snoozed
task fires again, a done one never does; what fell due while the service was down fires once on
start, marked late; two schedulers at once deliver each reminder once; bulk messages never hold
a reminder up. Through the real scheduler job, outbox pump and the fake Bot API."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import Container
from models import Channel, OutboxLane, OutboxMessage
from scheduler import jobs
from services import outbox, tasks
from services.actors import Actor
from tests import factories
from tests.chat import Chat
from tests.conftest import REDIS_URL

FIRE = jobs.by_name("fire_reminders")


async def _tick(container: Container) -> str:
    return await jobs.run(FIRE, container.db, container.company)


async def _reminders(fake_tg, chat_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """The reminders the chat holds (as they read now: edits included), text without markup."""
    found = []
    for message in fake_tg.sent_messages(chat_id):
        message["text"] = html.unescape(re.sub(r"<[^>]+>", "", message["text"]))
        message["message"]["text"] = message["text"]
        if message["text"].startswith("⏰"):
            found.append(message)
    return found


def titles_in(text: str) -> list[str]:
    """The tasks a reminder names: its own, or each line's of a digest of several."""
    lines = text.split("\n")
    if lines[0].startswith("⏰ Напоминания:"):
        return [line.split(" · ", 1)[1].split(" (с опозданием")[0] for line in lines[2:]]
    return [lines[0].split(": ", 1)[1]]


@pytest.fixture
async def anna(container, clock):
    async with container.db.unit_of_work() as s:
        return await factories.employee(s, clock, name="Анна")


async def _task(container, who, *, minutes: int = 30, warn: int | None = None, title="Позвонить"):  # type: ignore[no-untyped-def]
    async with container.db.unit_of_work() as s:
        task = await tasks.create(
            s,
            title=title,
            due_at=container.company.clock.now() + timedelta(minutes=minutes),
            assignee_id=who.id,
            by=Actor.of(who),
            company=container.company,
            warn_minutes=warn,
        )
        return task.id


async def _settled(container, fake_tg) -> None:  # type: ignore[no-untyped-def]
    """Every outbox row delivered (the pump runs on its own)."""
    for _ in range(200):
        async with container.db.unit_of_work() as s:
            waiting = await s.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(outbox.UNSETTLED))
            )
        if not waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


async def test_a_reminder_arrives_at_the_due_time_and_done_stops_it(
    container, fake_tg, clock, anna
):
    container.pump.start()
    await _task(container, anna, minutes=30, warn=10)
    assert await _tick(container) == "0 reminders fired"
    clock.advance(minutes=20)
    await _tick(container)
    await _settled(container, fake_tg)
    [warning] = await _reminders(fake_tg, anna.telegram_id)
    assert warning["text"].startswith("⏰ Скоро срок: Позвонить")
    clock.advance(minutes=10)
    await _tick(container)
    await _settled(container, fake_tg)
    reminders = await _reminders(fake_tg, anna.telegram_id)
    assert [r["text"].split("\n")[0] for r in reminders] == [
        "⏰ Скоро срок: Позвонить",
        "⏰ Напоминание: Позвонить",
    ]
    chat = Chat(container, fake_tg, anna)
    labels = [b["text"] for row in reminders[-1]["reply_markup"]["inline_keyboard"] for b in row]
    assert {"✅ Готово", "⏰ Отложить"} <= set(labels)
    assert await chat.press("Готово", reminders[-1]) == "Задача закрыта"
    await _settled(container, fake_tg)
    clock.advance(days=1)
    assert await _tick(container) == "0 reminders fired"  # a done task never fires
    await _settled(container, fake_tg)
    assert len(await _reminders(fake_tg, anna.telegram_id)) == 2
    edited = fake_tg.calls("editMessageText")
    assert any("Сделано: Анна" in c.params["text"] for c in edited)


async def test_a_snoozed_task_fires_again(container, fake_tg, clock, anna):
    container.pump.start()
    await _task(container, anna, minutes=5)
    clock.advance(minutes=5)
    await _tick(container)
    await _settled(container, fake_tg)
    chat = Chat(container, fake_tg, anna)
    [first] = await _reminders(fake_tg, anna.telegram_id)
    await chat.press("Отложить", first)
    await _settled(container, fake_tg)
    alert = await chat.press("15 мин")
    assert alert is not None and alert.startswith("Напомню")
    await _settled(container, fake_tg)
    clock.advance(minutes=14)
    assert await _tick(container) == "0 reminders fired"
    clock.advance(minutes=1)
    assert await _tick(container) == "1 reminders fired"
    await _settled(container, fake_tg)
    assert len(await _reminders(fake_tg, anna.telegram_id)) == 2


async def test_a_typed_snooze_time_is_read_back_and_an_ambiguous_one_is_asked(
    container, fake_tg, clock, anna
):
    container.pump.start()
    task_id = await _task(container, anna, minutes=5)
    clock.advance(minutes=5)  # Monday 10:05 in Moscow
    await _tick(container)
    await _settled(container, fake_tg)
    chat = Chat(container, fake_tg, anna)
    [first] = await _reminders(fake_tg, anna.telegram_id)
    await chat.press("Отложить", first)
    await _settled(container, fake_tg)
    await chat.press("Другое время")
    await _settled(container, fake_tg)
    await chat.say("в 9")  # 09:00 has passed: tonight at 21:00 or tomorrow at 09:00?
    await _settled(container, fake_tg)
    asked = chat.last
    assert "Уточните" in asked["text"]
    options = [b["text"] for row in asked["reply_markup"]["inline_keyboard"] for b in row]
    assert options == ["пн, 01.12 в 21:00", "вт, 02.12 в 09:00"]
    await chat.press("вт, 02.12 в 09:00", asked)
    await _settled(container, fake_tg)
    async with container.db.unit_of_work() as s:
        card = await tasks.card(s, task_id)
    assert card.snoozed_until is not None
    assert card.snoozed_until.astimezone(container.company.timezone).strftime("%d.%m %H:%M") == (
        "02.12 09:00"
    )


async def test_what_fell_due_while_down_fires_once_on_start_marked_late(
    container, fake_tg, clock, anna
):
    async with container.db.unit_of_work() as s:
        boris = await factories.employee(s, clock, name="Борис")
    await _task(container, anna, minutes=10, title="Звонок Анны")
    for n in range(3):
        await _task(container, boris, minutes=10 + n, title=f"Задача {n}")
    clock.advance(hours=3)  # the service was down meanwhile
    container.pump.start()
    assert await _tick(container) == "4 reminders fired"  # the first tick at start
    assert await _tick(container) == "0 reminders fired"
    await _settled(container, fake_tg)
    [alone] = await _reminders(fake_tg, anna.telegram_id)
    assert alone["text"].startswith("⏰ Напоминание: Звонок Анны")
    assert "Напоминание опоздало: срок был" in alone["text"]
    # Three waiting for one chat come as one message, a line and a button each.
    [digest] = await _reminders(fake_tg, boris.telegram_id)
    lines = digest["text"].split("\n")
    assert lines[0] == "⏰ Напоминания: 3"
    assert sorted(line.split(" · ")[-1] for line in lines[2:]) == [
        f"Задача {n} (с опозданием: сервис был недоступен)" for n in range(3)
    ]
    chat = Chat(container, fake_tg, boris)
    await chat.press("Задача 1", digest)  # the card comes as a message of its own
    await _settled(container, fake_tg)
    assert chat.last["text"].startswith("<b>📌 Задача 1")
    assert "✅ Готово" in [
        b["text"] for row in chat.last["reply_markup"]["inline_keyboard"] for b in row
    ]


@pytest.mark.parametrize("with_redis", [False, True], ids=["no-redis", "redis"])
async def test_two_schedulers_deliver_each_reminder_once(
    settings, clock, db, fake_tg, redis, with_redis
):
    if db.is_sqlite:
        pytest.skip("several schedulers need PostgreSQL (SQLite runs one process)")
    if with_redis:
        settings = settings.model_copy(update={"redis_url": REDIS_URL})
    sides = [Container.build(settings, clock=clock) for _ in range(2)]
    try:
        for side in sides:
            side.make_pump(poll_interval=0.05)
            side.wire_outbox_nudges()
            side.pump.start()
        async with sides[0].db.unit_of_work() as s:
            people = [await factories.employee(s, clock, name=f"Сотрудник {n}") for n in range(20)]
        for who in people:
            for n in range(10):
                await _task(sides[0], who, minutes=1, title=f"{who.name}: {n}")
        clock.advance(minutes=1)
        # Both schedulers tick at once, again and again, as two hosts would.
        for _ in range(3):
            await asyncio.gather(*(_tick(side) for side in sides))
        await _settled(sides[0], fake_tg)
        titles = [
            title
            for who in people
            for m in await _reminders(fake_tg, who.telegram_id)
            for title in titles_in(m["text"])
        ]
        assert len(titles) == 200 and len(set(titles)) == 200
    finally:
        for side in sides:
            await side.close()


async def test_a_reminder_does_not_wait_behind_bulk_messages_to_the_same_chat(
    container, clock, anna
):
    async with container.db.unit_of_work() as s:
        await outbox.enqueue_many(
            s,
            [
                outbox.Outgoing(
                    channel=Channel.TELEGRAM,
                    recipient=anna.telegram_id,
                    kind="text",
                    payload={"text": f"рассылка {n}"},
                    lane=OutboxLane.BULK,
                )
                for n in range(5)
            ],
            now=clock.now(),
        )
    task_id = await _task(container, anna, minutes=1)
    clock.advance(minutes=1)
    await _tick(container)
    async with container.db.unit_of_work() as s:
        [claimed] = await outbox.claim_due(s, now=clock.now())
    assert claimed.kind == "task_card" and claimed.payload["task_id"] == task_id


async def test_a_backlog_older_than_the_claims_look_still_goes_as_one_digest(db, clock):
    """The claim looks at the newest due rows only; a chat with one row there and an older
    backlog of its group behind it gets the whole backlog as one digest, not one message. A
    chat's rows of another group never join it."""
    now = clock.now()

    def reminder(chat: int, n: int, group: str = "task_reminders") -> outbox.Outgoing:
        return outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=chat,
            kind="task_card",
            payload={"task_id": n},
            entity=("task", n),
            coalesce_group=group,
        )

    async with db.unit_of_work() as s:
        await outbox.enqueue_many(s, [reminder(1, n) for n in range(4)], now=now)  # the backlog
        await outbox.enqueue_many(s, [reminder(1, 99, group="new_leads")], now=now)
        await outbox.enqueue_many(s, [reminder(2 + n, 10 + n) for n in range(8)], now=now)
        await outbox.enqueue_many(s, [reminder(1, 20)], now=now)  # chat 1's newest
    async with db.unit_of_work() as s:
        claimed = await outbox.claim_due(s, now=now, limit=2)
    digest = next(c for c in claimed if c.recipient == "1")
    assert digest.kind == outbox.DIGEST_KIND
    assert digest.payload["group"] == "task_reminders"
    assert sorted(digest.payload["entity_ids"]) == [0, 1, 2, 3, 20]
