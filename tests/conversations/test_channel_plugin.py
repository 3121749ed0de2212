"""A new messenger is an adapter and its rules, not a change in the core: a "max" channel
registered here (as an adapter module would at start-up) receives, opens a lead, relays, and
its replies go out through the same outbox to its own sender."""

from __future__ import annotations

import sqlalchemy as sa

from models import Conversation, OutboxMessage
from scheduler.outbox_pump import OutboxPump
from services import conversations
from services.actors import Actor
from tests import factories
from tests.chat import Chat, drain


class MaxSender:
    """What a MAX adapter's sender would be: it delivers one row of its channel."""

    channel = "max"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def prepare(self, row, session):
        view = await conversations.message(session, row.entity_id)
        return view.text

    async def send(self, row, prepared):
        self.sent.append((row.recipient, prepared))
        return f"max-{len(self.sent)}"


async def test_a_channel_registered_at_start_up_works_end_to_end(container, fake_tg, clock):
    conversations.register(conversations.ChannelRules("max"))
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
        await conversations.receive(
            s,
            conversations.IncomingMessage(
                channel="max",
                chat_id="u-42",
                message_id="max-in-1",
                text="Привет из MAX",
                name="Олег",
            ),
            company=container.company,
        )
    await drain(container)
    chat = Chat(container, fake_tg, anna)
    assert "Привет из MAX" in chat.messages[0]["text"]
    async with container.db.unit_of_work() as s:
        conv = (await s.execute(sa.select(Conversation))).scalar_one()
        assert conv.channel == "max"
        await conversations.write(
            s, conv.id, by=Actor.of(anna), text="Здравствуйте, Олег", company=container.company
        )
    sender = MaxSender()
    pump = OutboxPump(
        container.db,
        {**container.pump.senders, "max": sender},
        {},
        clock,
        on_settled=container.pump.on_settled,
    )
    while await pump.run_once():
        pass
    assert sender.sent == [("u-42", "Здравствуйте, Олег")]
    async with container.db.unit_of_work() as s:
        row = (
            await s.execute(sa.select(OutboxMessage).where(OutboxMessage.channel == "max"))
        ).scalar_one()
        assert row.provider_message_id == "max-1"
