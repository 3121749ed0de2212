"""The WhatsApp webhook as Meta drives it: verification, signatures, batches, every message
type, and duplicates (even concurrent ones) stored once."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa

from models import Client, InboundEvent, Lead, Message
from tests import factories
from tests.chat import Chat, drain
from tests.conversations.support import messages, post


async def test_meta_verification_echoes_the_challenge_only_for_our_token(web):
    ok = await web.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "wa-verify",
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status == 200 and await ok.text() == "1158201444"
    wrong = await web.get(
        "/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert wrong.status == 403
    assert (await wrong.json())["error"] == "bad_verify_token"


@pytest.mark.parametrize(
    "tamper",
    ["no header", "wrong secret", "body changed after signing", "not hex", "sha1 prefix"],
)
async def test_a_notification_with_a_bad_signature_is_refused_and_writes_nothing(
    web, container, fake_wa, tamper
):
    body, headers = fake_wa.notification(fake_wa.text("79120001122", "Здравствуйте"))
    if tamper == "no header":
        del headers["X-Hub-Signature-256"]
    elif tamper == "wrong secret":
        other = type(fake_wa)(app_secret="someone-else")
        _, headers = other.signed(body)
    elif tamper == "body changed after signing":
        body = body.replace("Здравствуйте".encode("unicode_escape"), b"Hacked")
        body = body.replace(b"79120001122", b"79990000000")
    elif tamper == "not hex":
        headers["X-Hub-Signature-256"] = "sha256=" + "z" * 64
    else:
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256", "sha1")
    response = await web.post("/webhooks/whatsapp", data=body, headers=headers)
    assert response.status == 401
    assert (await response.json())["error"] == "bad_signature"
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Message) == 0
        assert await factories.count(s, InboundEvent) == 0
        assert await factories.count(s, Lead) == 0


async def test_a_signed_body_that_is_not_json_is_a_400(web, fake_wa):
    body, headers = fake_wa.signed(b"{not json")
    response = await web.post("/webhooks/whatsapp", data=body, headers=headers)
    assert response.status == 400


async def test_unknown_objects_fields_and_changes_are_acknowledged_and_ignored(
    web, container, fake_wa
):
    for payload in (
        {"object": "page", "entry": []},
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "account_update", "value": {}}]}],
        },
        {"object": "whatsapp_business_account", "entry": "nope", "extra": {"a": [1, 2]}},
    ):
        body, headers = fake_wa.signed(json.dumps(payload).encode())
        response = await web.post("/webhooks/whatsapp", data=body, headers=headers)
        assert response.status == 200
    assert await messages(container) == []


async def test_one_notification_with_several_clients_and_a_malformed_item_keeps_the_good_ones(
    web, container, fake_wa, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    good_a = fake_wa.text("79120001122", "Первый клиент", name="Иван")
    good_b = fake_wa.text("+79120003344", "Второй клиент", name="Мария")
    broken = fake_wa.text("79120005566", "без id")
    del broken["message"]["id"]
    await post(web, fake_wa, good_a, broken, good_b)
    stored = await messages(container)
    assert [m.text for m in stored] == ["Первый клиент", "Второй клиент"]
    chat = Chat(container, fake_tg, anna)
    assert len(chat.messages) == 2  # a card per new client
    async with container.db.unit_of_work() as s:
        names = set((await s.execute(sa.select(Client.name))).scalars())
    assert names == {"Иван", "Мария"}


async def test_the_same_notification_three_times_at_once_is_one_message_one_lead_one_card(
    web, container, fake_wa, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    body, headers = fake_wa.notification(fake_wa.text("79120001122", "Здравствуйте"))
    answers = await asyncio.gather(
        *(web.post("/webhooks/whatsapp", data=body, headers=headers) for _ in range(3))
    )
    assert [a.status for a in answers] == [200, 200, 200]
    await drain(container)
    assert len(await messages(container)) == 1
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Lead) == 1
    assert len(Chat(container, fake_tg, anna).messages) == 1


async def test_two_first_messages_of_a_new_client_in_separate_notifications_open_one_lead(
    web, container, fake_wa, clock
):
    async with container.db.unit_of_work() as s:
        await factories.employee(s, clock, name="Анна")
    one = fake_wa.notification(fake_wa.text("79120001122", "Здравствуйте"))
    two = fake_wa.notification(fake_wa.text("79120001122", "Вы тут?"))
    answers = await asyncio.gather(
        *(web.post("/webhooks/whatsapp", data=b, headers=h) for b, h in (one, two))
    )
    assert [a.status for a in answers] == [200, 200]
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Lead) == 1
    assert len(await messages(container)) == 2


EVERY_KIND = [
    (
        "image",
        {"id": "m-img", "mime_type": "image/jpeg", "caption": "вот окно"},
        "📷 Фото",
        "sendPhoto",
    ),
    (
        "document",
        {"id": "m-doc", "mime_type": "application/pdf", "filename": "смета.pdf"},
        "📎 Файл: смета.pdf",
        "sendDocument",
    ),
    (
        "audio",
        {"id": "m-voice", "mime_type": "audio/ogg", "voice": True},
        "🎤 Голосовое сообщение",
        "sendVoice",
    ),
    ("video", {"id": "m-vid", "mime_type": "video/mp4"}, "🎬 Видео", "sendVideo"),
    ("sticker", {"id": "m-st", "mime_type": "image/webp"}, "Стикер", "sendDocument"),
    (
        "location",
        {"latitude": 55.75, "longitude": 37.61, "name": "Офис"},
        "📍 Геопозиция",
        "sendMessage",
    ),
    (
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "yes", "title": "Да, удобно"}},
        "🔘 Нажата кнопка: Да, удобно",
        "sendMessage",
    ),
    (
        "button",
        {"payload": "ok", "text": "Подтверждаю"},
        "🔘 Нажата кнопка: Подтверждаю",
        "sendMessage",
    ),
    ("reaction", {"message_id": "wamid.unknown", "emoji": "👍"}, "Реакция 👍", "sendMessage"),
    ("unsupported", {}, "Сообщение такого вида здесь не показать", "sendMessage"),
    ("ephemeral_future_type", {"x": 1}, "Сообщение такого вида здесь не показать", "sendMessage"),
]


@pytest.mark.parametrize(
    ("kind", "content", "shown", "method"), EVERY_KIND, ids=[k[0] for k in EVERY_KIND]
)
async def test_every_inbound_type_is_stored_and_shown_sensibly(
    web, container, fake_wa, fake_tg, clock, kind, content, shown, method
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    for media_id in ("m-img", "m-doc", "m-voice", "m-vid", "m-st"):
        fake_wa.add_media(media_id, f"bytes of {media_id}".encode(), "application/octet-stream")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте"))
    await post(web, fake_wa, fake_wa.message("79120001122", kind, content))
    chat = Chat(container, fake_tg, anna)
    relayed = chat.last
    assert shown in relayed["text"]
    assert fake_tg.calls(method)
    stored = (await messages(container))[-1]
    assert stored.provider_message_id
    if method not in ("sendMessage",):
        [(_, _, data)] = fake_tg.uploads
        assert data == f"bytes of {content['id']}".encode()


async def test_contacts_sent_by_a_client_show_name_and_phone(
    web, container, fake_wa, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте"))
    card = {
        "name": {"formatted_name": "Пётр Сидоров"},
        "phones": [{"phone": "+7 912 555-66-77", "type": "CELL"}],
    }
    await post(web, fake_wa, fake_wa.message("79120001122", "contacts", [card]))
    text = Chat(container, fake_tg, anna).last["text"]
    assert "👤 Контакт" in text and "Пётр Сидоров +7 912 555-66-77" in text
