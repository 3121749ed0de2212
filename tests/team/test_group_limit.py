"""A burst of client messages into one team inbox stays within Telegram's per-group limit
(about 20 messages a minute; scaled down here to 20 per 2 s) and loses nothing: what waited
for the group's budget goes out together."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from config.settings import Settings
from models import Role
from tests import factories
from tests.chat import drain
from tests.fakes.telegram_api import GROUP_POSTS, FakeTelegram
from tests.team.support import GROUP, Group

WINDOW = 2.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "telegram_group_rate": 20,
            "telegram_group_window": WINDOW,
            "telegram_chat_interval": 0.1,
        }
    )


def _busiest(times: list[float], window: float) -> int:
    return max((sum(1 for t in times if s <= t < s + window) for s in times), default=0)


async def test_a_burst_of_100_client_messages_stays_within_the_group_limit(
    web, container, fake_tg: FakeTelegram, fake_wa, clock
):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.ADMIN)
    fake_tg.add_group(GROUP, "Команда")
    group = Group(container, fake_tg)
    await group.say(boss, "/bind_team")
    fake_tg.limits, fake_tg.group_limit, fake_tg.chat_gap = True, (20, WINDOW), 0.05

    # 60 messages from one client in six deliveries, 40 from eight new clients
    texts: dict[str, list[str]] = {}
    deliveries = []
    for batch in range(6):
        said = [f"Иван {batch * 10 + i}" for i in range(10)]
        texts.setdefault("79120000000", []).extend(said)
        deliveries.append([fake_wa.text("79120000000", t, name="Иван") for t in said])
    for client in range(8):
        phone = f"7912000010{client}"
        said = [f"Клиент {client}: {i}" for i in range(5)]
        texts[phone] = said
        deliveries.append([fake_wa.text(phone, t, name=f"Клиент {client}") for t in said])
    for items in deliveries:  # all acknowledged before the outbox sends anything
        body, headers = fake_wa.notification(*items)
        response = await web.post("/webhooks/whatsapp", data=body, headers=headers)
        assert response.status == 200
    await drain(container)

    lines = Counter(
        line
        for thread in group.topics
        for text in group.bot_texts(thread)
        for line in text.split("\n")
    )
    every = [text for said in texts.values() for text in said]
    assert len(every) == 100
    assert {text: lines[text] for text in every} == {text: 1 for text in every}
    assert len(group.topics) == 9

    to_group = [
        c
        for c in fake_tg.requests
        if c.params.get("chat_id") == GROUP and c.method.lower() in GROUP_POSTS
    ]
    assert not [c for c in to_group if c.status == 429]  # never over the limit
    accepted = [c.at for c in to_group if c.status == 200]
    assert _busiest(accepted, WINDOW) <= 20
    ivan = group.topic("Иван")
    parts = [m for m in group.bot_texts(ivan) if "Иван " in m]
    assert len(parts) < 20  # 60 messages went out in far fewer


async def test_a_busy_group_does_not_hold_up_private_chats(
    web, container, fake_tg: FakeTelegram, fake_wa, clock
):
    """With a small pump (4 sends in hand), ten new clients' topics waiting for the group's
    budget must not keep the employee's private cards waiting: at most two of one group's
    rows are in hand at a time, the rest are handed back for their turn."""
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.ADMIN)
        anna = await factories.employee(s, clock, name="Анна")
    fake_tg.add_group(GROUP, "Команда")
    group = Group(container, fake_tg)
    await group.say(boss, "/bind_team")
    fake_tg.limits, fake_tg.group_limit, fake_tg.chat_gap = True, (20, WINDOW), 0.05
    pump = container.make_pump(batch=4, poll_interval=0.05)
    pump.start()

    async def time_passes() -> None:  # handed-back rows come due by the product's clock
        while True:
            await asyncio.sleep(0.2)
            clock.advance(seconds=1)

    ticking = asyncio.create_task(time_passes())
    try:
        items = [
            fake_wa.text(f"7912000020{i}", f"Вопрос {i}", name=f"Клиент {i}") for i in range(10)
        ]
        body, headers = fake_wa.notification(*items)
        assert (await web.post("/webhooks/whatsapp", data=body, headers=headers)).status == 200
        private = await fake_tg.wait_for(
            "sendMessage", predicate=lambda c: c.params.get("chat_id") == anna.telegram_id
        )
        await fake_tg.wait_for("pinChatMessage", count=10, timeout=30)
    finally:
        ticking.cancel()
    assert len(group.topics) == 10
    accepted = sorted(
        c.at
        for c in fake_tg.requests
        if c.params.get("chat_id") == GROUP and c.method.lower() in GROUP_POSTS and c.status == 200
    )
    assert len(accepted) > 20  # 30 posts at 20 per window: the group had to wait for a new one
    # the private card did not wait for the group's next window (held rows would make it)
    assert private[0].at < accepted[20], (private[0].at - accepted[0], accepted[20] - accepted[0])
