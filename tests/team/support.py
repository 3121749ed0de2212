"""A staff forum group driven as its people drive it: bind it, read a client's topic, write
in it, press the card's buttons."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models import TeamTopic
from tests.chat import deliver, drain, find_button
from tests.fakes.telegram_api import FakeTelegram

GROUP = -1001234567890


class Group:
    def __init__(self, container: Any, fake: FakeTelegram, chat_id: int = GROUP) -> None:
        self.container, self.fake, self.chat_id = container, fake, chat_id

    async def say(self, who: Any, text: str, *, thread: int | None = None, **extra: Any) -> None:
        """`who` (an employee, or a user id) writes in the group (in a topic, if `thread`)."""
        user = who if isinstance(who, int) else int(who.telegram_id)
        update = self.fake.message_update(
            from_id=user, text=text, chat_id=self.chat_id, thread_id=thread, extra=extra or None
        )
        await deliver(self.container, update)
        await drain(self.container)

    async def press(self, who: Any, label: str, message: dict[str, Any]) -> str | None:
        user = who if isinstance(who, int) else int(who.telegram_id)
        data = find_button(message, label)["callback_data"]
        update = self.fake.callback_update(from_id=user, data=data, message=message["message"])
        await deliver(self.container, update)
        await drain(self.container)
        return self.answer_to(update)

    def answer_to(self, update: dict[str, Any]) -> str | None:
        query_id = update["callback_query"]["id"]
        answers = [
            c.params
            for c in self.fake.calls("answerCallbackQuery")
            if c.params["callback_query_id"] == query_id
        ]
        assert answers, "the bot never answered the press"
        return answers[-1].get("text")

    @property
    def topics(self) -> dict[int, Any]:
        return self.fake.groups[self.chat_id].topics

    def topic(self, name_part: str) -> int:
        """The thread id of the one open topic whose name contains `name_part`."""
        found = [i for i, topic in self.topics.items() if name_part in topic.name]
        assert len(found) == 1, f"topics: {[t.name for t in self.topics.values()]}"
        return found[0]

    def messages(self, thread: int) -> list[dict[str, Any]]:
        return self.fake.topic_messages(self.chat_id, thread)

    def bot_texts(self, thread: int) -> list[str]:
        return [m["text"] for m in self.messages(thread) if "by_user" not in m]

    def card(self, thread: int) -> dict[str, Any]:
        """The topic's pinned card (as it looks now)."""
        pinned = self.topics[thread].pinned
        assert pinned, "nothing is pinned in the topic"
        [card] = [m for m in self.messages(thread) if m["message_id"] == pinned[-1]]
        return card

    @property
    def general(self) -> list[str]:
        """What the bot said outside topics (answers to commands there)."""
        return [
            m["text"]
            for m in self.fake.sent_messages(self.chat_id)
            if "message_thread_id" not in m["message"] and "by_user" not in m
        ]


async def topic_rows(container: Any) -> list[TeamTopic]:
    async with container.db.unit_of_work() as s:
        return list((await s.execute(sa.select(TeamTopic).order_by(TeamTopic.id))).scalars())
