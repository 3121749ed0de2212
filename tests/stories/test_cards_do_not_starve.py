"""A burst of junk leads must not bury a real one: with Telegram's real limits (1 message a
second per chat), a new card overtakes the backlog, and the backlog goes out as digests of
new leads, each lead a line and a button that opens its full card. Nothing is lost."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app import Container
from handlers.callbacks import LeadAction, LeadCallback
from models import Lead, OutboxMessage, OutboxStatus
from services import leads
from tests import factories
from tests.chat import deliver
from webhooks.server import build_web_app

LEAD_ID = re.compile(r"#(\d+)")
FORM = "/webhooks/forms/site"


@pytest.fixture
async def limited(settings, clock, db):
    """The product with Telegram's real send limits: 30 a second overall, 1 a second per chat."""
    real = settings.model_copy(update={"telegram_global_rate": 30, "telegram_chat_interval": 1.0})
    container = Container.build(real, clock=clock)
    container.make_pump(poll_interval=0.05)
    container.wire_outbox_nudges()
    container.pump.start()
    yield container
    await container.close()


def leads_shown(fake_tg, chat_id: int) -> Counter[int]:
    """How many times each lead id appears in the messages a chat received (as a card's title
    or a digest line)."""
    seen: Counter[int] = Counter()
    for message in fake_tg.sent_messages(chat_id):
        for line in message["text"].splitlines():
            if match := LEAD_ID.search(line):
                seen[int(match.group(1))] += 1
    return seen


async def waiting(container, count: int) -> list[int]:
    """`count` new leads whose cards wait for the one employee on duty; their ids, oldest
    first."""
    ids = []
    async with container.db.unit_of_work() as s:
        for i in range(count):
            result = await leads.register_incoming(
                s,
                leads.LeadIn(source="form:site", name=f"Клиент {i}", phone=f"+7912000110{i}"),
                company=container.company,
            )
            ids.append(result.lead_id)
    return ids


async def post(client, **fields) -> dict:
    response = await client.post(FORM, json=fields, headers={"X-CRM-Token": "form-secret"})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_real_lead_overtakes_a_burst_of_junk_and_nothing_is_lost(
    limited, fake_tg, clock, aiohttp_client
):
    async with limited.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
        boris = await factories.employee(s, clock, name="Борис")
    client = await aiohttp_client(build_web_app(limited))
    junk = await asyncio.gather(
        *(post(client, name=f"bot {i}", phone=f"+7912{i:07d}") for i in range(100))
    )
    # The burst is being delivered: each chat has had its first message, 49 more wait.
    await fake_tg.wait_for("sendMessage", count=2, timeout=10)

    started = time.monotonic()
    real = await post(client, name="Настоящий Клиент", phone="+79035550101")
    chat = {anna.id: anna.telegram_id, boris.id: boris.telegram_id}
    async with limited.db.unit_of_work() as s:
        assignee = (await s.get(Lead, real["lead_id"])).assignee_id
    [card] = await fake_tg.wait_for(
        "sendMessage",
        timeout=10,
        predicate=lambda c: "Настоящий Клиент" in c.params.get("text", ""),
    )
    # The next message to that chat (one in flight, a second apart under Telegram's limit),
    # with room for a loaded 2-core CI machine; behind the backlog it would be ~50 s.
    assert card.at - started < 3.0, "the real lead waited behind the junk"
    assert card.params["chat_id"] == chat[assignee]

    # The rest drains in a handful of digests, not 50 messages a chat; each lead shown once.
    everyone = {r["lead_id"] for r in junk} | {real["lead_id"]}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        shown = leads_shown(fake_tg, anna.telegram_id) + leads_shown(fake_tg, boris.telegram_id)
        if set(shown) >= everyone:
            break
        await asyncio.sleep(0.2)
    assert set(shown) == everyone
    assert all(n == 1 for n in shown.values()), "a lead was shown twice"
    for person in (anna, boris):
        assert len(fake_tg.sent_messages(person.telegram_id)) <= 8


async def test_a_lead_in_a_digest_opens_as_a_full_card_that_can_be_taken(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    ids = await waiting(container, 4)
    assert await container.pump.run_once() == 1  # four cards waiting: one digest
    [digest] = fake_tg.sent_messages(anna.telegram_id)
    assert "4" in digest["text"].splitlines()[0]
    buttons = [b for row in digest["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [
        LeadCallback(action=LeadAction.OPEN, lead_id=i).pack() for i in reversed(ids)
    ]

    # Open the oldest one: its full card arrives with Take / Non-target / Spam.
    press = fake_tg.callback_update(
        from_id=anna.telegram_id, data=buttons[-1]["callback_data"], message=digest
    )
    await deliver(container, press)
    await container.pump.run_once()
    card = fake_tg.sent_messages(anna.telegram_id)[-1]
    assert f"#{ids[0]}" in card["text"] and "Клиент 0" in card["text"]
    take = card["reply_markup"]["inline_keyboard"][0][0]
    assert take["callback_data"] == LeadCallback(action=LeadAction.TAKE, lead_id=ids[0]).pack()

    # Take it there: that card is edited to say so, and the digest is left as it was.
    update = fake_tg.callback_update(
        from_id=anna.telegram_id, data=take["callback_data"], message=card
    )
    await deliver(container, update)
    await container.pump.run_once()
    messages = fake_tg.sent_messages(anna.telegram_id)
    assert "Взял в работу: Анна" in messages[-1]["text"]
    assert messages[0]["text"] == digest["text"] and messages[0]["edits"] == 0


async def test_a_few_waiting_cards_still_go_one_by_one_newest_first(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await waiting(container, 2)
    for _ in range(3):
        await container.pump.run_once()
    texts = [m["text"] for m in fake_tg.sent_messages(anna.telegram_id)]
    assert len(texts) == 2
    assert "Клиент 1" in texts[0] and "Клиент 0" in texts[1]
    assert all("Взять" in str(m["reply_markup"]) for m in fake_tg.sent_messages(anna.telegram_id))


async def test_a_digest_that_fails_is_retried_whole_and_each_lead_still_shown_once(
    container, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await waiting(container, 5)
    fake_tg.fail_next("sendMessage", status=502, description="Bad Gateway")
    assert await container.pump.run_once() == 1
    assert fake_tg.sent_messages(anna.telegram_id) == []
    clock.advance(seconds=5)  # past the backoff
    assert await container.pump.run_once() == 1
    assert len(fake_tg.sent_messages(anna.telegram_id)) == 1
    assert len(leads_shown(fake_tg, anna.telegram_id)) == 5
    async with container.db.unit_of_work() as s:
        statuses = (await s.execute(sa.select(OutboxMessage.status))).scalars().all()
    assert statuses == [OutboxStatus.COALESCED] * 5
    assert await container.pump.run_once() == 0  # nothing left to send
