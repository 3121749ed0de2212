"""Clients who write to the bot: the same conversation as on WhatsApp, joined to the client
their phone belongs to once they share it; quotes map both ways; "стоп" opts out."""

from __future__ import annotations

import sqlalchemy as sa

from models import AuditEntry, ChannelIdentity, Client, Conversation, Lead
from services.clients import timeline
from tests import factories
from tests.chat import Chat
from tests.conversations.support import messages, post

IVAN = 555_000_111  # the client's Telegram id (and private chat id)


async def employee(container, clock):
    async with container.db.unit_of_work() as s:
        return await factories.employee(s, clock, name="Анна")


async def test_a_stranger_who_writes_is_a_client_with_a_card_and_is_asked_for_the_phone_once(
    container, fake_tg, clock
):
    anna = Chat(container, fake_tg, await employee(container, clock))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Здравствуйте! Хочу заказать замер")
    [card] = anna.messages
    assert "Хочу заказать замер" in card["text"] and "telegram" in card["text"]
    [ask] = ivan.messages
    assert "поделитесь номером" in ask["text"]
    [[share]] = ask["reply_markup"]["keyboard"]
    assert share["request_contact"] is True
    await ivan.say("Когда сможете приехать?")
    assert len(ivan.messages) == 1  # asked once
    assert "Когда сможете приехать?" in anna.last["text"]
    assert "💬 Ivan · Telegram" in anna.last["text"]


async def test_sharing_the_phone_joins_the_client_who_called_before(
    web, container, fake_tg, fake_wa, clock
):
    anna = Chat(container, fake_tg, await employee(container, clock))
    # the same person wrote on WhatsApp first (phone +7 912 000-11-22)
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте из WhatsApp", name="Иван"))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("А это я же, из Telegram")
    await ivan.share_contact("+7 912 000-11-22", user_id=IVAN)
    assert "Номер сохранён" in ivan.last["text"]
    assert ivan.last["reply_markup"] == {"remove_keyboard": True}
    async with container.db.unit_of_work() as s:
        live = (
            (await s.execute(sa.select(Client.id).where(Client.merged_into_id.is_(None))))
            .scalars()
            .all()
        )
        assert len(live) == 1
        convs = (await s.execute(sa.select(Conversation.client_id))).scalars().all()
        assert set(convs) == set(live)
        texts = [
            e.text
            for e in await timeline.entries(s, live[0], limit=20)
            if e.kind == timeline.Kind.MESSAGE
        ]
    assert "Здравствуйте из WhatsApp" in texts and "А это я же, из Telegram" in texts
    async with container.db.unit_of_work() as s:
        merges = (
            await s.execute(
                sa.select(AuditEntry.actor_kind, AuditEntry.actor_id).where(
                    AuditEntry.action == "client.merge"
                )
            )
        ).all()
    assert merges == [("system", None)]  # the product merged them, no employee
    # each channel's first message opened a lead, and Anna got both cards
    assert len([m for m in anna.messages if "Новый лид" in m["text"]]) == 2


async def test_sharing_the_phone_before_writing_opens_the_conversation_with_it(
    container, fake_tg, clock
):
    await employee(container, clock)
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.share_contact("+7 912 000-33-44", user_id=IVAN)
    async with container.db.unit_of_work() as s:
        lead = (await s.execute(sa.select(Lead))).scalar_one()
    assert lead.phone == "+79120003344"
    assert not [m for m in ivan.messages if "поделитесь" in m["text"]]  # no need to ask


async def test_someone_elses_contact_is_just_a_message(container, fake_tg, clock):
    anna = Chat(container, fake_tg, await employee(container, clock))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Здравствуйте")
    await ivan.share_contact("+7 912 999-88-77", first_name="Жена", user_id=777)
    assert "Жена +7 912 999-88-77" in anna.last["text"]
    async with container.db.unit_of_work() as s:
        lead = (await s.execute(sa.select(Lead))).scalar_one()
    assert lead.phone is None


async def test_replies_quote_both_ways(container, fake_tg, clock):
    anna = Chat(container, fake_tg, await employee(container, clock))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Здравствуйте")
    asked = fake_tg.message_update(from_id=IVAN, text="Сколько стоит?")
    await ivan.feed(asked)
    question = anna.last
    await anna.say("12 500 ₽", reply_to_message=question["message"])
    [answer] = [m for m in ivan.messages if m["text"] == "12 500 ₽"]
    [sent] = [c for c in fake_tg.calls("sendMessage") if c.params.get("text") == "12 500 ₽"]
    assert sent.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    # Ivan quotes Anna's answer: Anna sees it as a reply to her own message
    await ivan.say("Дорого", reply_to_message=answer["message"])
    [relay] = [c for c in fake_tg.calls("sendMessage") if "Дорого" in c.params.get("text", "")]
    replied_to = relay.params["reply_parameters"]["message_id"]
    assert replied_to not in {m["message_id"] for m in anna.messages}  # Anna's own message
    assert "↪️ в ответ на: 12 500 ₽" in relay.params["text"]


async def test_stop_turns_broadcasts_off_and_is_confirmed(container, fake_tg, clock):
    anna = Chat(container, fake_tg, await employee(container, clock))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Здравствуйте")
    await ivan.say("СТОП")
    assert "отписаны от рассылок" in ivan.last["text"]
    assert "СТОП" in anna.last["text"]  # the employee sees it too
    async with container.db.unit_of_work() as s:
        client = (await s.execute(sa.select(Client))).scalar_one()
    assert client.opted_out_at is not None


async def test_a_client_blocking_the_bot_is_explained_to_the_employee(container, fake_tg, clock):
    anna = Chat(container, fake_tg, await employee(container, clock))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Здравствуйте")
    fake_tg.fail_chat(IVAN, status=403, description="Forbidden: bot was blocked by the user")
    await anna.say("Добрый день!", reply_to_message=anna.messages[0]["message"])
    assert "заблокировал бота" in anna.last["text"]
    assert [m.status.value for m in await messages(container)][-1] == "failed"


async def test_files_both_ways_with_a_client_of_the_bot_go_by_telegram_file_id(
    container, fake_tg, clock
):
    anna = Chat(container, fake_tg, await employee(container, clock))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Здравствуйте")
    photo = [{"file_id": "AgAD-ivan-photo", "file_unique_id": "p", "width": 800, "height": 600}]
    await ivan.say("", photo=photo, caption="Вот так сейчас")
    [relay] = [c for c in fake_tg.calls("sendPhoto") if c.params["chat_id"] == anna.user_id]
    assert relay.params["photo"] == "AgAD-ivan-photo"  # our own bot's file: sent again by id
    assert "Вот так сейчас" in relay.params["caption"]
    document = {"file_id": "BQAD-offer", "file_unique_id": "o", "file_name": "КП.pdf"}
    await anna.say(
        "",
        document=document,
        caption="Наше предложение",
        reply_to_message=anna.messages[0]["message"],
    )
    [sent] = [c for c in fake_tg.calls("sendDocument") if c.params["chat_id"] == IVAN]
    assert sent.params["document"] == "BQAD-offer"
    assert sent.params["caption"] == "Наше предложение"
    assert fake_tg.uploads == []  # nothing was downloaded or uploaded


async def test_a_round_video_and_a_sticker_from_a_client_of_the_bot(container, fake_tg, clock):
    anna = Chat(container, fake_tg, await employee(container, clock))
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Здравствуйте")
    note = {"file_id": "DQAD-round", "file_unique_id": "r", "length": 240, "duration": 7}
    await ivan.say("", video_note=note)
    [round_video] = fake_tg.calls("sendVideoNote")
    assert round_video.params["video_note"] == "DQAD-round"
    assert round_video.params["chat_id"] == anna.user_id
    sticker = {
        "file_id": "CAAD-st",
        "file_unique_id": "s",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "😀",
    }
    await ivan.say("", sticker=sticker)
    assert "Стикер" in anna.last["text"] and "😀" in anna.last["text"]


async def test_a_foreign_number_shared_in_telegram_is_linked(container, fake_tg, clock):
    await employee(container, clock)
    ivan = Chat(container, fake_tg, IVAN)
    await ivan.say("Добрый день")
    await ivan.share_contact("380501234567", user_id=IVAN)  # Telegram sends no "+"
    assert "Номер сохранён" in ivan.last["text"]
    async with container.db.unit_of_work() as s:
        phones = (
            (
                await s.execute(
                    sa.select(ChannelIdentity.address).where(ChannelIdentity.channel == "phone")
                )
            )
            .scalars()
            .all()
        )
    assert phones == ["+380501234567"]
