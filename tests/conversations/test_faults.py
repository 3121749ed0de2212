"""Faults on the way to the employee: a burst of client messages while the Bot API is down is
delivered once each when it is back; a redelivered notification after a crash adds nothing."""

from __future__ import annotations

import re

import sqlalchemy as sa

from models import Lead, OutboxMessage, OutboxStatus
from tests import factories
from tests.chat import Chat, drain
from tests.conversations.support import messages, post


async def test_messages_written_while_telegram_is_down_arrive_once_each_when_it_is_back(
    web, container, fake_wa, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "m0 Здравствуйте"))
    await fake_tg.refuse_connections()
    burst = [fake_wa.text(f"7912000{n % 4:04d}", f"m{n} сообщение") for n in range(1, 21)]
    for start in range(0, len(burst), 5):
        await post(web, fake_wa, *burst[start : start + 5])  # acknowledged while Telegram is away
    assert len(await messages(container)) == 21
    await fake_tg.accept_connections()
    for _ in range(10):  # backoffs run out on the product's clock
        clock.advance(seconds=310)
        await drain(container)
    relayed = [
        int(n)
        for m in Chat(container, fake_tg, anna).messages
        if "💬" in m["text"]
        for n in re.findall(r"\bm(\d+)\b", m["text"])
    ]
    # the four new clients' first messages opened leads (their cards, by then piled up, came
    # as one digest); every later message was relayed, each once
    assert sorted(relayed) == list(range(5, 21))
    async with container.db.unit_of_work() as s:
        states = (await s.execute(sa.select(OutboxMessage.status))).scalars().all()
        leads = await factories.count(s, Lead)
    assert leads == 5
    assert set(states) <= {OutboxStatus.SENT, OutboxStatus.COALESCED}


async def test_a_notification_redelivered_after_it_was_stored_changes_nothing(
    web, container, fake_wa, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    body, headers = fake_wa.notification(
        fake_wa.text("79120001122", "Здравствуйте"), fake_wa.text("79120001122", "Ещё вопрос")
    )
    for _ in range(3):  # Meta retries a notification it thinks failed, for days
        assert (await web.post("/webhooks/whatsapp", data=body, headers=headers)).status == 200
    await drain(container)
    assert len(await messages(container)) == 2
    assert len(Chat(container, fake_tg, anna).messages) == 2  # the card and one relay
