"""Files both ways: a client's WhatsApp photo reaches the employee (its download link asked
for afresh when it has expired); an employee's photo or file reaches the client."""

from __future__ import annotations

from models import MessageStatus
from tests import factories
from tests.chat import Chat
from tests.conversations.support import messages, post


async def start(web, container, fake_wa, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван Петров"))
    return Chat(container, fake_tg, anna)


async def test_a_client_photo_reaches_the_employee_with_its_caption(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.add_media("4490709327384033", b"\xff\xd8jpeg bytes", "image/jpeg")
    photo = fake_wa.media_message("79120001122", "image", "4490709327384033", caption="Вот проём")
    await post(web, fake_wa, photo)
    [upload] = fake_tg.calls("sendPhoto")
    assert upload.params["chat_id"] == chat.user_id
    assert "💬 Иван Петров · WhatsApp" in upload.params["caption"]
    assert "Вот проём" in upload.params["caption"]
    assert fake_tg.uploads == [("sendPhoto", "file.jpg", b"\xff\xd8jpeg bytes")]


async def test_an_expired_download_link_is_asked_for_again(web, container, fake_wa, fake_tg, clock):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.add_media("m-late", b"%PDF-1.7", "application/pdf")
    fake_wa.expire_next_download = True
    document = fake_wa.media_message(
        "79120001122", "document", "m-late", mime="application/pdf", filename="замер.pdf"
    )
    await post(web, fake_wa, document)
    assert fake_wa.expired_fetches == 1 and fake_wa.downloads == ["m-late"]
    assert fake_tg.uploads == [("sendDocument", "замер.pdf", b"%PDF-1.7")]
    assert "📎 Файл: замер.pdf" in chat.last["text"]


async def test_a_file_that_cannot_be_fetched_is_still_shown_with_a_warning(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    gone = fake_wa.media_message("79120001122", "image", "m-never-uploaded", caption="смотрите")
    await post(web, fake_wa, gone)
    text = chat.last["text"]
    assert "смотрите" in text and "не удалось получить" in text


async def test_an_employee_photo_reaches_the_whatsapp_client(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    card = chat.messages[0]
    photo = [
        {"file_id": "AgACAgIAAxk-small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "AgACAgIAAxk-big", "file_unique_id": "b", "width": 1280, "height": 960},
    ]
    await chat.say("", photo=photo, caption="Так будет выглядеть", reply_to_message=card["message"])
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["type"] == "image"
    assert sent.body["image"]["caption"] == "Так будет выглядеть"
    [(mime, data)] = fake_wa.uploads
    assert data == fake_tg.file_bytes("AgACAgIAAxk-big") and mime == "image/jpeg"
    assert sent.body["image"]["id"] in fake_wa.media
    [_, reply] = await messages(container)
    assert reply.status is MessageStatus.SENT and reply.kind == "image"


async def test_an_employee_document_reaches_the_whatsapp_client_with_its_name(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    card = chat.messages[0]
    document = {
        "file_id": "BQACAgIAAxk-doc",
        "file_unique_id": "d",
        "file_name": "Договор.pdf",
        "mime_type": "application/pdf",
    }
    await chat.say("", document=document, reply_to_message=card["message"])
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["type"] == "document"
    assert sent.body["document"]["filename"] == "Договор.pdf"
    assert fake_wa.uploads[0][1] == fake_tg.file_bytes("BQACAgIAAxk-doc")


async def test_a_file_whatsapp_refuses_tells_the_employee_what_to_send_instead(
    web, container, fake_wa, fake_tg, clock
):
    chat = await start(web, container, fake_wa, fake_tg, clock)
    fake_wa.fail_next(131053, what="media")
    card = chat.messages[0]
    document = {"file_id": "BQACAgIAAxk-exe", "file_unique_id": "e", "file_name": "setup.exe"}
    await chat.say("", document=document, reply_to_message=card["message"])
    assert "не принял файл" in chat.last["text"]
    assert fake_wa.sent == []
