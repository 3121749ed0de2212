"""The team inbox against generated group messages: whoever writes whatever in a client's
topic, an unknown thread or the General topic (huge texts, NULs, commands, "//", files,
stickers, replies to anything), handling never raises, every request the bot makes is one
Telegram accepts, a client has one topic, and only employees' messages in a client's topic
become messages of that client."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from config.i18n import Translator
from models import Message, Role, TeamTopic
from tests import factories
from tests.chat import deliver, drain
from tests.hostile import strategies as hs
from tests.hostile.support import Rig

GROUP = -1009876543210
INTERNAL = Translator("ru")("error.internal")
STRANGER = 777_000_1


async def _bind(rig: Rig) -> int:
    """A bound inbox with one WhatsApp client's topic; returns the topic's thread."""
    container, fake = rig.container, rig.fake_tg
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, container.company.clock, role=Role.ADMIN)
    fake.add_group(GROUP, "Команда")
    await deliver(
        container, fake.message_update(from_id=boss.telegram_id, text="/bind_team", chat_id=GROUP)
    )
    async with container.db.unit_of_work() as s:
        from services import conversations

        await conversations.receive(
            s,
            conversations.IncomingMessage(
                channel="whatsapp", chat_id="79120001122", message_id="wamid.1", text="Привет"
            ),
            company=container.company,
        )
    await drain(container)
    [thread] = fake.groups[GROUP].topics
    return thread


TEXTS = st.one_of(
    hs.TEXT,
    st.sampled_from(["//", "// заметка", "/start", "/bind_team x", "x" * 5000, "\x00", ""]),
)
EXTRAS = st.sampled_from(
    [
        {},
        {"photo": [{"file_id": "AgA-p", "file_unique_id": "p", "width": 1, "height": 1}]},
        {"document": {"file_id": "BQA-d", "file_unique_id": "d", "file_name": "x" * 300}},
        {
            "sticker": {
                "file_id": "CAA-s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
    ]
)


@given(
    who=st.sampled_from(["employee", "stranger"]),
    where=st.sampled_from(["topic", "unknown", "general"]),
    text=TEXTS,
    extra=EXTRAS,
    reply_to=st.one_of(st.none(), st.integers(1, 50)),
)
async def test_generated_messages_in_a_team_group(
    rig: Rig, who: str, where: str, text: str, extra: dict, reply_to: int | None
) -> None:
    if not rig.seeded:
        rig.thread = await _bind(rig)  # type: ignore[attr-defined]
        rig.seeded = True
    container, fake = rig.container, rig.fake_tg
    thread = {"topic": rig.thread, "unknown": 424242, "general": None}[where]  # type: ignore[attr-defined]
    user = hs.EMPLOYEE_TG if who == "employee" else STRANGER
    fields = dict(extra)
    if reply_to is not None:
        fields["reply_to_message"] = {
            "message_id": reply_to,
            "date": 1764572400,
            "chat": {"id": GROUP, "type": "supergroup", "title": "Команда"},
        }
    async with container.db.unit_of_work() as s:
        before = (await s.execute(sa.select(sa.func.count()).select_from(Message))).scalar_one()
    update = fake.message_update(
        from_id=user, text=text, chat_id=GROUP, thread_id=thread, extra=fields or None
    )
    await container.dispatcher.feed_raw_update(container.bot, update)  # must not raise
    await drain(container)
    async with container.db.unit_of_work() as s:
        after = (await s.execute(sa.select(sa.func.count()).select_from(Message))).scalar_one()
        topics = (await s.execute(sa.select(sa.func.count()).select_from(TeamTopic))).scalar_one()
    assert topics == 1
    if who == "stranger" or where != "topic":
        assert after == before  # only an employee in a client's topic writes to the client
    rig.examples[f"team group: {who} in {where}"] = (
        rig.examples.get(f"team group: {who} in {where}", 0) + 1
    )
    rejected = [
        (c.method, c.response)
        for c in fake.requests
        if c.status not in (0, 200) and "not modified" not in str(c.response)
    ]
    assert not rejected, f"the bot sent requests Telegram refuses: {rejected}"
    crashed = [m["text"] for m in fake.sent_messages(GROUP) if m["text"] == INTERNAL]
    assert not crashed, "a group message made the bot fail (see the log)"
