"""A client writes on WhatsApp; the employee answers from Telegram; one history."""

from __future__ import annotations

import sqlalchemy as sa

from handlers.callbacks import ChatAction, ChatCallback
from models import Conversation, Lead, Message, MessageStatus, Role
from tests import factories
from tests.chat import Chat, drain
from tests.conversations.support import post


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


async def test_reply_and_note_buttons_on_a_relayed_message(web, container, fake_tg, fake_wa, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    question = fake_wa.text("79120001122", "Есть ли рассрочка?", name="Иван")
    await post(web, fake_wa, question)
    chat = Chat(container, fake_tg, anna)
    relayed = chat.last
    await chat.press("Ответить", relayed)
    assert "Ответ для Иван (WhatsApp)" in chat.last["text"]
    await chat.say("Да, на 6 месяцев")
    await chat.say("Без переплаты")
    await drain(container)
    first, second = await fake_wa.wait_sent(2)
    assert first.body["context"] == {"message_id": question["message"]["id"]}
    assert "context" not in second.body  # only the first answers the quoted message
    await chat.press("Заметка", relayed)
    await chat.say("Клиенту важна цена, перезвонить вечером")
    assert "Заметка сохранена" in chat.last["text"]
    await drain(container)
    assert len(fake_wa.sent) == 2
    async with container.db.unit_of_work() as s:
        directions = [
            m.direction.value
            for m in (await s.execute(sa.select(Message).order_by(Message.id))).scalars()
        ]
    assert directions == ["in", "in", "out", "out", "internal"]


async def test_a_manager_hands_a_conversation_over_and_the_new_owner_gets_the_history(
    web, container, fake_tg, fake_wa, clock
):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        boris = await factories.employee(s, clock, name="Борис", office="Центр")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await post(web, fake_wa, fake_wa.text("79120001122", "Нужен замер в субботу", name="Иван"))
    async with container.db.unit_of_work() as s:
        conv_id, lead_assignee = (
            await s.execute(
                sa.select(Conversation.id, Lead.assignee_id).join(
                    Lead, Lead.id == Conversation.lead_id
                )
            )
        ).one()
    first = anna if lead_assignee == anna.id else boris
    other = boris if first is anna else anna
    owner = Chat(container, fake_tg, first)
    await owner.say("Суббота подходит", reply_to_message=owner.last["message"])
    manager = Chat(container, fake_tg, boss)
    # the manager opens the handover from the conversation's button (sent to them by a test row)
    fake_tg_message = await manager.say("/help")
    await manager.press_data(
        ChatCallback(action=ChatAction.HANDOVER, conversation_id=conv_id).pack(), fake_tg_message
    )
    await manager.press(other.name)
    assert f"Переписка передана: {other.name}" in manager.last["text"]
    newcomer = Chat(container, fake_tg, other)
    history = newcomer.last["text"]
    assert "Переписка с Иван · WhatsApp: 3" in history
    assert "Нужен замер в субботу" in history and "Суббота подходит" in history
    # the client's next message goes to the new owner only, who may answer it
    await post(web, fake_wa, fake_wa.text("79120001122", "А во сколько?", name="Иван"))
    assert "А во сколько?" in newcomer.last["text"]
    assert "А во сколько?" not in owner.last["text"]
    await newcomer.say("В 11:00", reply_to_message=newcomer.last["message"])
    assert (await fake_wa.wait_sent(2))[1].body["text"]["body"] == "В 11:00"
    await newcomer.press("Клиент", newcomer.messages[-1])
    assert "Иван" in newcomer.last["text"]


async def test_an_employee_cannot_hand_over(web, container, fake_tg, fake_wa, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    chat = Chat(container, fake_tg, anna)
    alert = await chat.press_data(
        ChatCallback(action=ChatAction.HANDOVER, conversation_id=1).pack(), chat.last
    )
    assert alert == "Передать переписку может руководитель офиса"


async def test_a_note_button_then_a_telegram_reply_is_still_a_note(
    web, container, fake_tg, fake_wa, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await post(web, fake_wa, fake_wa.text("79120001122", "Мой бюджет 50 тысяч", name="Иван"))
    chat = Chat(container, fake_tg, anna)
    relayed = chat.last
    await chat.press("Заметка", relayed)
    await chat.say("бюджет маленький, предложить эконом", reply_to_message=relayed["message"])
    assert "Заметка сохранена" in chat.last["text"]
    await drain(container)
    assert fake_wa.sent == []


async def test_reply_mode_stops_when_another_client_writes_meanwhile(
    web, container, fake_tg, fake_wa, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    for number, name in (("79120001122", "Иван"), ("79120003344", "Мария")):
        await post(web, fake_wa, fake_wa.text(number, "Здравствуйте", name=name))
        await post(web, fake_wa, fake_wa.text(number, f"Вопрос от {name}", name=name))
    chat = Chat(container, fake_tg, anna)
    [ivans] = [m for m in chat.messages if "Вопрос от Иван" in m["text"]]
    await chat.press("Ответить", ivans)
    await chat.say("Иван, да, можно")  # nobody else wrote since: it goes to Ivan
    [first] = await fake_wa.wait_sent(1)
    assert first.body["to"] == "79120001122"
    await post(web, fake_wa, fake_wa.text("79120003344", "Ау, Мария тут", name="Мария"))
    await chat.say("И ещё: доставка бесплатно")  # meant for whom? not sent
    assert "пришло сообщение от Мария" in chat.last["text"]
    await drain(container)
    assert len(fake_wa.sent) == 1
    await chat.say("это уже поиск")  # the mode is over: plain text is a search again
    assert len(fake_wa.sent) == 1
