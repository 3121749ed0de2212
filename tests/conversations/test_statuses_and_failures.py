"""What becomes of a reply: statuses only move forward and show on the employee's message; a
reply WhatsApp refuses tells the employee why and what to do; Retry sends again, once."""

from __future__ import annotations

import itertools
import time

import pytest
import sqlalchemy as sa

from models import Lead, Message, MessageStatus, OutboxMessage, OutboxStatus
from tests import factories
from tests.chat import Chat, drain
from tests.conversations.support import messages, post


async def start(web, container, fake_wa, fake_tg, clock):
    """A client wrote; Anna has the card and answers with a Telegram reply to it."""
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван Петров"))
    return Chat(container, fake_tg, anna)


async def answer(chat, text="Добрый день!"):
    card = chat.messages[0]
    return await chat.say(text, reply_to_message=card["message"])


def own_message_id(fake_tg, chat) -> int:
    """The id of the employee's newest message (the fake numbers a chat's messages in turn)."""
    return (
        max(int(c.params["message_id"]) for c in fake_tg.calls("setMessageReaction"))
        if fake_tg.calls("setMessageReaction")
        else 0
    )


async def reply_row(container) -> Message:
    return [m for m in await messages(container) if m.direction.value == "out"][-1]


ORDERS = list(itertools.permutations(["sent", "delivered", "read"]))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
async def test_statuses_in_any_order_end_at_read_and_the_mark_shows_it(
    web, container, fake_wa, fake_tg, clock, order
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    await answer(chat)
    [sent] = await fake_wa.wait_sent(1)
    t0 = int(time.time())
    for n, status in enumerate(order):
        await post(web, fake_wa, statuses=[fake_wa.status(sent.wamid, status, at=t0 + n)])
    reply = await reply_row(container)
    assert reply.status is MessageStatus.READ
    [(key, emoji)] = [(k, v) for k, v in fake_tg.reactions.items() if k[0] == chat.user_id]
    assert emoji == ["👀"]  # read, whatever order the statuses came in
    assert key[1] not in {m["message_id"] for m in chat.messages}  # on Anna's own message
    # a late failure never undoes a read
    await post(web, fake_wa, statuses=[fake_wa.status(sent.wamid, "failed", code=131026)])
    assert (await reply_row(container)).status is MessageStatus.READ


async def test_a_status_that_overtakes_the_send_is_kept_and_applied(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.planned_ids.append("wamid.EARLY000001")
    await post(web, fake_wa, statuses=[fake_wa.status("wamid.EARLY000001", "delivered")])
    await answer(chat)
    await fake_wa.wait_sent(1)
    reply = await reply_row(container)
    assert reply.provider_message_id == "wamid.EARLY000001"
    assert reply.status is MessageStatus.DELIVERED


async def test_an_early_failure_is_applied_with_its_reason(web, container, fake_wa, fake_tg, clock):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.planned_ids.append("wamid.EARLYFAIL01")
    early = fake_wa.status("wamid.EARLYFAIL01", "failed", code=131026)
    await post(web, fake_wa, statuses=[early])
    await answer(chat)
    reply = await reply_row(container)
    assert reply.status is MessageStatus.FAILED and reply.error.startswith("[131026]")
    assert "нет WhatsApp" in chat.last["text"]


async def test_131026_tells_the_employee_why_within_seconds_and_retry_sends_once(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.fail_next(131026)
    started = time.monotonic()
    await answer(chat, "Когда удобно позвонить?")
    notice = chat.last
    assert time.monotonic() - started < 5
    assert "Не доставлено: Иван Петров (WhatsApp)" in notice["text"]
    assert "нет WhatsApp" in notice["text"]
    [sent_notice] = [c for c in fake_tg.calls("sendMessage") if "Не доставлено" in c.params["text"]]
    anna_reply = sent_notice.params["reply_parameters"]["message_id"]
    assert anna_reply not in {m["message_id"] for m in chat.messages}  # it answers her message
    assert (await reply_row(container)).status is MessageStatus.FAILED
    assert fake_wa.sent == []
    assert await chat.press("Отправить ещё раз", notice) == "Отправляю ещё раз"
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["text"]["body"] == "Когда удобно позвонить?"
    assert (await reply_row(container)).status is MessageStatus.SENT
    # the same button again: already sent, nothing goes twice
    assert "уже отправляется" in (await chat.press("Отправить ещё раз", notice) or "")
    await drain(container)
    assert len(fake_wa.sent) == 1


async def test_131047_inside_the_window_is_tried_once_more(web, container, fake_wa, fake_tg, clock):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.fail_next(131047)
    await answer(chat)
    assert [code for code, _ in fake_wa.refused] == [131047]
    clock.advance(seconds=4)
    await drain(container)
    assert len(fake_wa.sent) == 1
    assert (await reply_row(container)).status is MessageStatus.SENT


@pytest.mark.parametrize(("code", "wait"), [(130429, 10), (131056, 6)])
async def test_throughput_and_pair_rate_refusals_wait_and_go_later(
    web, container, fake_wa, fake_tg, clock, code, wait
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.fail_next(code)
    await answer(chat)
    assert fake_wa.sent == []
    async with container.db.unit_of_work() as s:
        row = (
            await s.execute(sa.select(OutboxMessage).where(OutboxMessage.channel == "whatsapp"))
        ).scalar_one()
    assert row.status is OutboxStatus.FAILED
    assert (row.next_attempt_at - clock.now()).total_seconds() >= wait
    clock.advance(seconds=wait - 1)
    await drain(container)
    assert fake_wa.sent == []  # not before the allowed pace
    clock.advance(seconds=2)
    await drain(container)
    assert len(fake_wa.sent) == 1
    assert "Не доставлено" not in chat.last["text"]


async def test_after_24_hours_a_reply_is_refused_in_chat_and_templates_are_named(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    clock.advance(hours=24, seconds=1)
    await answer(chat, "Вы ещё думаете?")
    shown = [
        c.params["text"]
        for c in fake_tg.calls("sendMessage")
        if c.params["chat_id"] == chat.user_id
    ]
    assert "больше 24 часов" in shown[-1]
    assert "order_update" in shown[-1]
    assert fake_wa.sent == [] and fake_wa.refused == []
    assert [m.direction.value for m in await messages(container)] == ["in"]
    # the templates are offered as buttons; one reaches the client
    assert await chat.press("order_update") == "Шаблон «order_update» отправлен"
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["type"] == "template"
    assert sent.body["template"] == {"name": "order_update", "language": {"code": "ru"}}
    assert (await messages(container))[-1].status is MessageStatus.SENT


async def test_131047_twice_tells_the_employee_and_offers_the_templates(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.fail_next(131047, times=2)
    await answer(chat)
    clock.advance(seconds=4)
    await drain(container)
    notice = chat.last
    assert "только шаблоны (order_update, appointment_reminder)" in notice["text"]
    assert (
        await chat.press("appointment_reminder", notice)
        == "Шаблон «appointment_reminder» отправлен"
    )
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["template"]["name"] == "appointment_reminder"


async def test_a_note_never_leaves(web, container, fake_wa, fake_tg, clock):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    await answer(chat, "// клиент просил не звонить до 12")
    assert "Заметка сохранена" in chat.last["text"]
    await drain(container)
    assert fake_wa.sent == [] and fake_wa.refused == []
    [_, note] = await messages(container)
    assert note.direction.value == "internal" and note.text == "клиент просил не звонить до 12"
    async with container.db.unit_of_work() as s:
        rows = (await s.execute(sa.select(OutboxMessage.channel))).scalars().all()
        assert "whatsapp" not in rows
        lead = (await s.execute(sa.select(Lead))).scalar_one()
        assert lead.first_response_seconds is None  # a note is not an answer


async def test_a_retry_after_an_async_failure_is_not_touched_by_the_old_sends_statuses(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    await answer(chat, "Добрый день!")
    [first] = await fake_wa.wait_sent(1)
    await post(web, fake_wa, statuses=[fake_wa.status(first.wamid, "failed", code=131049)])
    notice = chat.last
    assert "придержал сообщение" in notice["text"]
    await chat.press("Отправить ещё раз", notice)
    second = (await fake_wa.wait_sent(2))[1]
    # Meta repeats the old send's failure, and a late "sent" of it: the retry stays as it is
    await post(
        web,
        fake_wa,
        statuses=[
            fake_wa.status(first.wamid, "failed", code=131049),
            fake_wa.status(first.wamid, "sent"),
        ],
    )
    reply = await reply_row(container)
    assert reply.provider_message_id == second.wamid and reply.status is MessageStatus.SENT
    await post(web, fake_wa, statuses=[fake_wa.status(second.wamid, "delivered")])
    assert (await reply_row(container)).status is MessageStatus.DELIVERED


async def test_a_reply_to_a_digest_of_new_leads_answers_no_client(
    web, container, fake_wa, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(
        web,
        fake_wa,
        *(fake_wa.text(f"7912000{n:04d}", f"Вопрос {n}", name=f"Клиент {n}") for n in range(4)),
    )
    chat = Chat(container, fake_tg, anna)
    digest = chat.last
    assert "Новые лиды" in digest["text"] or "новых лид" in digest["text"].lower()
    await chat.say("Всем привет", reply_to_message=digest["message"])
    await drain(container)
    assert fake_wa.sent == []
    assert [m.direction.value for m in await messages(container)] == ["in"] * 4
