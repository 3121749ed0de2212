"""A whole support ticket in Telegram: raised with a photo, taken by one of two support
employees, answered with a photo, answered back by a Telegram reply, the thread shown a message
per reply, closed; and the refusals. Through the dispatcher, the outbox and the fake Bot API."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from handlers.callbacks import TicketAction, TicketCallback
from models import Employee, Role
from tests import factories
from tests.chat import Chat, labels


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def photo(file_id: str) -> list[dict]:
    return [{"file_id": file_id, "file_unique_id": file_id[-6:], "width": 90, "height": 90}]


@pytest.fixture
async def desk(container, fake_tg, clock):
    async with container.db.unit_of_work() as s:
        people = {
            "anna": await factories.employee(s, clock, name="Анна", office="Казань"),
            "boris": await factories.employee(s, clock, name="Борис", office="Казань"),
            "olga": await factories.employee(s, clock, name="Ольга", role=Role.SUPPORT),
            "pavel": await factories.employee(s, clock, name="Павел", role=Role.SUPPORT),
        }
    return {name: Chat(container, fake_tg, who) for name, who in people.items()}


async def raise_one(anna: Chat, text: str, *, with_photo: str | None = None) -> None:
    await anna.say("/ticket")
    await anna.press("Документы")
    assert "Опишите вопрос" in plain(anna.text)
    await anna.say(text)
    if with_photo:
        await anna.say("", photo=photo(with_photo), caption="скриншот ошибки")
        assert "вложений: 1" in plain(anna.text)
    await anna.press("Отправить")


async def test_a_ticket_conversation_with_a_photo_both_ways(desk, fake_tg):
    anna, olga, pavel = desk["anna"], desk["olga"], desk["pavel"]
    await raise_one(anna, "Не проходит анкета на визу", with_photo="AgAD-anna-photo")
    assert "Заявка #1 отправлена в поддержку" in plain(anna.text)
    # Both support employees get the card with Take.
    for chat in (olga, pavel):
        card = plain(chat.last["text"])
        assert "🆘 Заявка #1 · Документы" in card and "От: Анна (Казань)" in card
        assert "Не проходит анкета на визу" in card and "вложений: 1" in card
        assert "🙋 Взять" in labels(chat.last)
    assert await olga.press("Взять") == "Заявка ваша"
    assert "Взял(а): Ольга" in plain(pavel.last["text"])
    assert "🙋 Взять" not in labels(pavel.last)  # only one wins; the others see who
    assert (
        await pavel.press_data(TicketCallback(action=TicketAction.REPLY, ticket_id=1).pack())
        == "Заявку уже взял(а) Ольга"
    )
    # Olga answers with a photo; Anna gets it with its heading.
    await olga.press("Ответить")
    await olga.say("", photo=photo("AgAD-olga-photo"), caption="Вот образец заполнения")
    [sent] = [c.params for c in fake_tg.calls("sendPhoto") if c.params["chat_id"] == anna.user_id]
    assert sent["photo"] == "AgAD-olga-photo"
    assert plain(sent["caption"]).startswith("💬 #1 · Документы · Ольга (поддержка)")
    assert "Вот образец заполнения" in plain(sent["caption"])
    # Anna answers back with a Telegram reply to that message.
    answer = anna.last
    await anna.say("Спасибо, получилось", reply_to_message=answer["message"])
    assert "Отправлено по заявке #1" in plain(anna.text)
    heard = plain(olga.messages[-2]["text"]) + plain(olga.last["text"])
    assert "💬 #1 · Документы · Анна" in heard and "Спасибо, получилось" in heard
    # The thread, a message per reply, each headed by who wrote it, photos shown again.
    before = len(olga.messages)
    assert await olga.press("Переписка", _card_of(olga)) == "Переписка по заявке #1: 4"
    thread = [plain(m["text"]) for m in olga.messages[before:]]
    assert [line.split("\n")[0] for line in thread] == [
        "💬 #1 · Документы · Анна",
        "💬 #1 · Документы · Анна",
        "💬 #1 · Документы · Ольга (поддержка)",
        "💬 #1 · Документы · Анна",
    ]
    photos_to_olga = [
        c.params["photo"] for c in fake_tg.calls("sendPhoto") if c.params["chat_id"] == olga.user_id
    ]
    assert photos_to_olga == ["AgAD-anna-photo", "AgAD-olga-photo"]
    # Anna closes it; Olga is told.
    await anna.say("/tickets")
    await anna.press("#1")
    assert await anna.press("Закрыть") == "Заявка закрыта"
    assert "✅ Заявка #1 закрыта: Анна" in plain(olga.last["text"])


async def test_nothing_of_one_ticket_reaches_anothers_thread(desk):
    anna, boris, olga = desk["anna"], desk["boris"], desk["olga"]
    await raise_one(anna, "Первая: анкета")
    await raise_one(boris, "Вторая: оплата счёта")
    await olga.say("/tickets")
    assert "Очередь поддержки: 2" in plain(olga.text)
    await olga.press("Документы: 2")
    await olga.press("#1")
    before = len(olga.messages)
    await olga.press("Переписка")
    thread = " ".join(plain(m["text"]) for m in olga.messages[before:])
    assert "Первая: анкета" in thread and "Вторая" not in thread and "#2" not in thread


async def test_someone_not_in_support_cannot_take_or_answer(desk):
    anna, boris = desk["anna"], desk["boris"]
    await raise_one(anna, "Вопрос")
    await boris.say("/help")  # a message to press forged buttons on
    take = TicketCallback(action=TicketAction.TAKE, ticket_id=1).pack()
    assert await boris.press_data(take) == "Отвечать на заявки может только поддержка"
    reply = TicketCallback(action=TicketAction.REPLY, ticket_id=1).pack()
    assert await boris.press_data(reply) == "Отвечать на заявки может только поддержка"
    thread = TicketCallback(action=TicketAction.THREAD, ticket_id=1).pack()
    assert await boris.press_data(thread) == "Это не ваша заявка"


def _card_of(chat: Chat) -> dict:
    """The newest ticket card in the chat (not a reply)."""
    return [m for m in chat.messages if plain(m["text"]).startswith("🆘 Заявка")][-1]


async def test_a_ticket_from_a_lead_card_is_about_that_lead(desk, container, fake_tg):
    from services import leads

    anna, olga = desk["anna"], desk["olga"]
    async with container.db.unit_of_work() as s:
        lead = await leads.register_incoming(
            s,
            leads.LeadIn(source="form:site", phone="+79120001122", name="Иван Петров"),
            company=container.company,
        )
        mine = await s.scalar(sa.select(Employee.id).where(Employee.telegram_id == anna.user_id))
        if lead.assignee_id != mine:
            await leads.assign(s, lead.lead_id, to=mine, by=None, company=container.company)
    await anna.say("/tickets")  # the lead's card arrives meanwhile
    [card] = [m for m in anna.messages if "Новый лид" in plain(m["text"])]
    await anna.press("В поддержку", card)
    assert "по «Иван Петров»" in plain(anna.text)
    await anna.press("Оплата")
    await anna.say("Клиент оплатил, а счёт не закрылся")
    await anna.press("Отправить")
    card = plain(olga.last["text"])
    assert "Клиент: Иван Петров" in card and f"Лид: #{lead.lead_id}" in card
