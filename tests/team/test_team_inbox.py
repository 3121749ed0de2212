"""The team inbox: a staff forum group where every client has a topic with a live card, the
client's messages, and the team's answers going back to the client."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from models import Direction, Message, Role, TeamInbox
from tests import factories
from tests.chat import Chat, deliver, drain
from tests.conversations.support import post
from tests.team.support import GROUP, Group, topic_rows


async def _bound(container, fake_tg, clock, **rights) -> tuple[Group, object]:
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.ADMIN)
    fake_tg.add_group(GROUP, "Окна — команда", **rights)
    group = Group(container, fake_tg)
    await group.say(boss, "/bind_team")
    return group, boss


async def test_binding_says_what_the_group_lacks_and_then_binds(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.ADMIN)
        anna = await factories.employee(s, clock, name="Анна")
    fake_tg.add_group(GROUP, "Команда", is_forum=False, can_manage_topics=False)
    group = Group(container, fake_tg)

    await group.say(anna, "/bind_team")
    assert "только администратор" in group.general[-1]

    await group.say(boss, "/bind_team")
    said = group.general[-1]
    assert "включите темы" in said and "«Управление темами»" in said
    assert "«Закрепление сообщений»" not in said  # that right is there
    async with container.db.unit_of_work() as s:
        assert (await s.execute(sa.select(TeamInbox))).first() is None

    fake_tg.add_group(GROUP, "Команда")  # topics on, the bot an admin with every right
    await group.say(boss, "/bind_team")
    assert "общий чат команды (вся компания)" in group.general[-1]
    async with container.db.unit_of_work() as s:
        inbox = (await s.execute(sa.select(TeamInbox))).scalar_one()
    assert (inbox.chat_id, inbox.scope) == (GROUP, "company")


async def test_a_new_whatsapp_client_gets_a_topic_with_a_pinned_card_and_answers_go_both_ways(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")

    hello = fake_wa.text("79120001122", "Здравствуйте, сколько стоит окно?", name="Иван Петров")
    await post(web, fake_wa, hello)
    await drain(container)

    thread = group.topic("Иван Петров")
    assert group.topics[thread].name == "Иван Петров · +79120001122"
    card = group.card(thread)
    assert card["message_id"] == group.messages(thread)[0]["message_id"]  # the first message
    assert "Иван Петров" in card["text"] and "WhatsApp" in card["text"]
    assert "Ведёт: Анна" in card["text"]  # the lead went to Anna, by the usual rules
    assert "Здравствуйте, сколько стоит окно?" in group.bot_texts(thread)[-1]

    # Anna answers in the topic: the client gets it on WhatsApp
    await group.say(anna, "Добрый день! 12 500 ₽ с установкой", thread=thread)
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["to"] == "79120001122"
    assert sent.body["text"]["body"] == "Добрый день! 12 500 ₽ с установкой"

    # a note never leaves
    await group.say(anna, "// клиенту важна цена", thread=thread)
    # a photo from the client comes into the topic as a photo
    fake_wa.add_media("media-1", b"\xff\xd8photo", "image/jpeg")
    await post(
        web, fake_wa, fake_wa.media_message("79120001122", "image", "media-1", caption="Вот окно")
    )
    await drain(container)
    assert len(fake_wa.sent) == 1
    photo = group.messages(thread)[-1]
    assert photo["media"] == "photo" and "Вот окно" in photo["text"]

    async with container.db.unit_of_work() as s:
        said = [
            (m.direction, m.text)
            for m in (await s.execute(sa.select(Message).order_by(Message.id))).scalars()
        ]
    assert said == [
        (Direction.IN, "Здравствуйте, сколько стоит окно?"),
        (Direction.OUT, "Добрый день! 12 500 ₽ с установкой"),
        (Direction.INTERNAL, "клиенту важна цена"),
        (Direction.IN, "Вот окно"),
    ]
    # the team's own messages are not posted again by the bot
    assert not any("12 500" in text for text in group.bot_texts(thread))


async def test_a_reply_written_in_a_private_chat_shows_in_the_topic_with_its_status(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await post(web, fake_wa, fake_wa.text("79120001122", "Есть рассрочка?", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")

    chat = Chat(container, fake_tg, anna)  # the private-chat card keeps working beside it
    await chat.say("Да, на 6 месяцев", reply_to_message=chat.last["message"])
    [sent] = await fake_wa.wait_sent(1)
    await drain(container)
    mirrored = group.messages(thread)[-1]
    assert "Анна → клиенту" in mirrored["text"] and "Да, на 6 месяцев" in mirrored["text"]

    await post(web, fake_wa, statuses=[fake_wa.status(sent.wamid, "delivered")])
    await drain(container)
    assert fake_tg.reactions[(GROUP, mirrored["message_id"])] == ["👌"]


async def test_simultaneous_takes_have_one_winner_and_the_card_shows_the_owner(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")
    card = group.card(thread)
    assert "никто не ведёт" in card["text"]  # nobody was on duty to get the lead
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
        boris = await factories.employee(s, clock, name="Борис")

    from tests.chat import find_button

    data = find_button(card, "Взять")["callback_data"]
    presses = [
        fake_tg.callback_update(from_id=who.telegram_id, data=data, message=card["message"])
        for who in (anna, boris)
    ]
    await asyncio.gather(*(deliver(container, p) for p in presses))
    await drain(container)
    answers = [group.answer_to(p) for p in presses]
    winners = [a for a in answers if a and a.startswith("✋ Клиента ведёт")]
    assert len(winners) == 1, answers
    winner = "Анна" if "Анна" in winners[0] else "Борис"
    loser = [a for a in answers if a not in winners]
    assert loser == [f"Клиента уже ведёт {winner}"]

    card = group.card(thread)
    assert f"Ведёт: {winner}" in card["text"]
    assert "Взять" not in str(card.get("reply_markup"))
    [row] = await topic_rows(container)
    owner = anna if winner == "Анна" else boris
    assert row.owner_id == owner.id


async def test_a_deleted_topic_is_opened_again_with_a_fresh_card_and_nothing_lost(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    await post(web, fake_wa, fake_wa.text("79120001122", "Первое", name="Иван"))
    await drain(container)
    old = group.topic("Иван")
    fake_tg.delete_topic(GROUP, old)  # someone deletes it; Telegram tells the bot nothing

    await post(web, fake_wa, fake_wa.text("79120001122", "Второе", name="Иван"))
    await post(web, fake_wa, fake_wa.text("79120001122", "Третье", name="Иван"))
    await drain(container)

    new = group.topic("Иван")
    assert new != old
    assert "Иван" in group.card(new)["text"]
    shown = "\n".join(group.bot_texts(new))
    assert "Второе" in shown and "Третье" in shown
    [row] = await topic_rows(container)
    assert row.thread_id == new and row.card_message_id == group.card(new)["message_id"]
    failed = [c for c in fake_tg.calls("sendMessage") if c.status == 400]
    assert failed and "thread not found" in failed[0].response["description"]


async def test_a_closed_topic_is_reopened_for_the_next_message(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    await post(web, fake_wa, fake_wa.text("79120001122", "Первое", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")
    fake_tg.close_topic(GROUP, thread)

    await post(web, fake_wa, fake_wa.text("79120001122", "После закрытия", name="Иван"))
    await drain(container)
    assert not group.topics[thread].closed
    assert "После закрытия" in group.bot_texts(thread)[-1]


async def test_a_form_lead_opens_a_topic_and_notes_but_not_answers_are_taken_there(
    web, container, fake_tg, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    response = await web.post(
        "/webhooks/forms/site",
        json={"name": "Мария", "phone": "+7 912 555-66-77", "comment": "Нужен замер"},
        headers={"X-CRM-Token": "form-secret"},
    )
    assert response.status == 200, await response.text()
    await drain(container)
    thread = group.topic("Мария")
    assert "Нужен замер" in group.card(thread)["text"]

    await group.say(anna, "Перезвоним?", thread=thread)
    assert "ещё не писал" in group.bot_texts(thread)[-1]


async def test_a_photo_from_the_topic_reaches_the_whatsapp_client_and_a_quote_is_kept(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    question = fake_wa.text("79120001122", "Какие бывают ручки?", name="Иван")
    await post(web, fake_wa, question)
    await drain(container)
    thread = group.topic("Иван")
    mirrored = group.messages(thread)[-1]
    photo = [{"file_id": "AgACAgIAAxk-big", "file_unique_id": "b", "width": 1280, "height": 960}]
    await group.say(
        anna,
        "",
        thread=thread,
        photo=photo,
        caption="Вот такие",
        reply_to_message=mirrored["message"],
    )
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["type"] == "image" and sent.body["image"]["caption"] == "Вот такие"
    assert sent.body["context"] == {"message_id": question["message"]["id"]}


async def test_a_telegram_client_of_the_bot_has_a_topic_too(container, fake_tg, clock):
    group, _boss = await _bound(container, fake_tg, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    client = Chat(container, fake_tg, 555000111)
    await client.say("Добрый вечер, вы работаете в субботу?")
    await drain(container)
    thread = group.topic("Ivan")  # the name Telegram gives (fake: Ivan)
    assert "вы работаете в субботу?" in group.bot_texts(thread)[-1]
    await group.say(anna, "Да, с 10 до 16", thread=thread)
    assert client.text == "Да, с 10 до 16"


async def test_a_reply_that_fails_is_marked_in_the_topic(web, container, fake_tg, fake_wa, clock):
    group, _boss = await _bound(container, fake_tg, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")
    fake_wa.fail_next(131026)
    await group.say(anna, "Добрый день", thread=thread)
    await drain(container)
    mine = [m for m in group.messages(thread) if m.get("by_user") == anna.telegram_id][-1]
    assert fake_tg.reactions[(GROUP, mine["message_id"])] == ["👎"]


async def test_a_renamed_client_renames_the_topic_and_a_deleted_card_is_posted_again(
    web, container, fake_tg, fake_wa, clock
):
    from services import actors, clients

    group, boss = await _bound(container, fake_tg, clock)
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")
    [row] = await topic_rows(container)
    async with container.db.unit_of_work() as s:
        await clients.editing.rename(
            s, row.client_id, "Иван Сидоров", by=actors.Actor.of(boss), now=clock.now()
        )
    await drain(container)
    assert group.topics[thread].name == "Иван Сидоров · +79120001122"
    assert "Иван Сидоров" in group.card(thread)["text"]

    old_card = group.card(thread)["message_id"]
    await fake_tg._delete_message({"chat_id": GROUP, "message_id": old_card})  # someone did
    await post(web, fake_wa, fake_wa.text("79120001122", "Вы тут?", name="Иван"))
    await drain(container)
    async with container.db.unit_of_work() as s:
        await clients.editing.rename(
            s, row.client_id, "Иван С.", by=actors.Actor.of(boss), now=clock.now()
        )
    await drain(container)
    card = group.card(thread)
    assert card["message_id"] != old_card and "Иван С." in card["text"]
    assert group.topic("Иван С.") == thread  # the same topic


async def test_someone_who_is_not_staff_cannot_write_to_a_client_from_the_topic(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss = await _bound(container, fake_tg, clock)
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")
    await group.say(999_888_777, "Привет от стажёра", thread=thread)
    assert "только сотрудники, подключённые к CRM" in group.bot_texts(thread)[-1]
    said = len(group.general)
    await group.say(999_888_777, "Просто болтаем")  # the General topic: none of the bot's business
    assert not [m for m in fake_wa.sent if "стажёра" in str(m.body)]
    assert len(group.general) == said  # the bot kept quiet there
