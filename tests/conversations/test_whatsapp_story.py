"""A client writes on WhatsApp; the employee answers from Telegram; one history."""

from __future__ import annotations

import sqlalchemy as sa

from models import Lead, Message, MessageStatus
from tests import factories
from tests.chat import Chat, drain


async def post(web, fake_wa, *items, statuses=None):
    body, headers = fake_wa.notification(*items, statuses=statuses)
    response = await web.post("/webhooks/whatsapp", data=body, headers=headers)
    assert response.status == 200, await response.text()
    return response


async def test_a_whatsapp_text_from_a_new_number_becomes_a_card_and_the_reply_goes_back(
    web, container, fake_tg, fake_wa, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    hello = fake_wa.text("79120001122", "Здравствуйте, сколько стоит окно?", name="Иван Петров")
    await post(web, fake_wa, hello)
    await drain(container)

    chat = Chat(container, fake_tg, anna)
    [card] = chat.messages
    assert "Иван Петров" in card["text"] and "Здравствуйте, сколько стоит окно?" in card["text"]

    # a second message is relayed, headed with who and where
    later = fake_wa.text("79120001122", "Двухстворчатое, 120 на 140", name="Иван Петров")
    await post(web, fake_wa, later)
    await drain(container)
    relayed = chat.last
    assert relayed["text"].startswith("<b>💬 Иван Петров · WhatsApp</b>")
    assert "Двухстворчатое, 120 на 140" in relayed["text"]

    # Anna answers with a Telegram reply to that message
    await chat.say("Добрый день! 12 500 ₽ с установкой", reply_to_message=relayed["message"])
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["to"] == "79120001122"
    assert sent.body["text"]["body"] == "Добрый день! 12 500 ₽ с установкой"
    assert sent.body["context"] == {"message_id": later["message"]["id"]}

    async with container.db.unit_of_work() as s:
        reply = (
            await s.execute(sa.select(Message).where(Message.provider_message_id == sent.wamid))
        ).scalar_one()
        assert reply.status is MessageStatus.SENT
        lead = (await s.execute(sa.select(Lead))).scalar_one()
        assert lead.first_response_seconds is not None
        assert lead.source == "whatsapp"
