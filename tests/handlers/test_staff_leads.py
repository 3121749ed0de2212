"""Pressing Take / Non-target / Spam on a card, as an employee does in Telegram."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    DealAction,
    DealCallback,
    LeadAction,
    LeadCallback,
    NewTaskCallback,
    NewTicketCallback,
    TicketAbout,
)
from models import Deal, Lead, LeadStatus, Role
from services import leads
from tests import factories
from tests.chat import Chat, buttons, deliver, labels


@pytest.fixture
async def team(container, clock):
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Москва")
        boris = await factories.employee(s, clock, name="Борис", office="Москва", telegram=True)
        boris.on_shift = False  # so the lead goes to Anna
        boss = await factories.employee(s, clock, name="Вера", office="Москва", role=Role.MANAGER)
        kazan = await factories.employee(s, clock, name="Глеб", office="Казань", role=Role.MANAGER)
    return {"anna": anna, "boris": boris, "boss": boss, "kazan": kazan}


async def card_for(container, fake_tg, who) -> tuple[int, dict]:
    async with container.db.unit_of_work() as s:
        result = await leads.register_incoming(
            s,
            leads.LeadIn(source="form:tilda", phone="+79120001122", name="Иван", office="Москва"),
            company=container.company,
        )
    await container.pump.run_once()
    [card] = fake_tg.sent_messages(who.telegram_id)
    return result.lead_id, card


async def press(container, fake_tg, who, action: LeadAction, lead_id: int, card: dict) -> dict:
    data = LeadCallback(action=action, lead_id=lead_id).pack()
    update = fake_tg.callback_update(from_id=who.telegram_id, data=data, message=card)
    await deliver(container, update)
    [answer] = [
        c
        for c in fake_tg.calls("answerCallbackQuery")
        if c.params["callback_query_id"] == update["callback_query"]["id"]
    ]
    await container.pump.run_once()
    return answer.params


async def lead_status(container, lead_id: int) -> LeadStatus:
    async with container.db.unit_of_work() as s:
        return (await s.get(Lead, lead_id)).status


async def test_take_makes_the_lead_mine_and_the_card_shows_it(container, fake_tg, team):
    anna = team["anna"]
    lead_id, card = await card_for(container, fake_tg, anna)
    assert card["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ Взять"
    answer = await press(container, fake_tg, anna, LeadAction.TAKE, lead_id, card)
    assert answer["text"] == "Лид ваш" and not answer.get("show_alert")
    [edited] = fake_tg.sent_messages(anna.telegram_id)
    assert "Взял в работу: Анна" in edited["text"]
    assert await lead_status(container, lead_id) is LeadStatus.TARGET
    async with container.db.unit_of_work() as s:
        deal = (await s.execute(sa.select(Deal))).scalar_one()
        lead = await s.get(Lead, lead_id)
    assert deal.owner_id == anna.id
    # Take's buttons are gone; the card leads on to the client and to the deal Take opened,
    # and sets a task about the lead.
    client = ClientCallback(action=ClientAction.OPEN, client_id=lead.client_id).pack()
    deal_button = DealCallback(action=DealAction.OPEN, deal_id=deal.id).pack()
    task = NewTaskCallback(lead_id=lead_id).pack()
    ticket = NewTicketCallback(about=TicketAbout.LEAD, record_id=lead_id).pack()
    assert [(b["text"], b["callback_data"]) for b in buttons(edited)] == [
        ("👤 Клиент", client),
        ("💼 Сделка", deal_button),
        ("📌 Задача", task),
        ("🆘 В поддержку", ticket),
    ]


@pytest.mark.parametrize("who", ["boris", "kazan"])
async def test_others_get_an_alert_and_nothing_changes(container, fake_tg, team, who):
    lead_id, card = await card_for(container, fake_tg, team["anna"])
    answer = await press(container, fake_tg, team[who], LeadAction.TAKE, lead_id, card)
    assert answer["show_alert"] is True
    assert "ответственный или руководитель" in answer["text"]
    assert await lead_status(container, lead_id) is LeadStatus.NEW
    assert fake_tg.calls("editMessageText") == []


async def test_the_office_manager_may_mark_spam_and_the_card_says_who(container, fake_tg, team):
    lead_id, card = await card_for(container, fake_tg, team["anna"])
    boss = Chat(container, fake_tg, team["boss"])
    await boss.press_data(LeadCallback(action=LeadAction.OPEN, lead_id=lead_id).pack(), card)
    assert await boss.press("Спам") is None  # her own copy of the card shows the reasons
    assert await lead_status(container, lead_id) is LeadStatus.NEW
    assert await boss.press("Реклама") == "Отмечен как спам"
    assert await lead_status(container, lead_id) is LeadStatus.SPAM
    [edited] = fake_tg.sent_messages(team["anna"].telegram_id)
    assert "«спам»: Вера" in edited["text"] and "Причина: Реклама" in edited["text"]
    assert labels(edited) == ["👤 Клиент"]  # closed: only the way to the client is left
    assert "Причина: Реклама" in boss.last["text"] and labels(boss.last) == ["👤 Клиент"]


async def test_non_target_then_take_is_refused_as_already_processed(container, fake_tg, team):
    anna = team["anna"]
    lead_id, card = await card_for(container, fake_tg, anna)
    await press(container, fake_tg, anna, LeadAction.NON_TARGET, lead_id, card)
    await Chat(container, fake_tg, anna).press("Дубль")
    answer = await press(container, fake_tg, anna, LeadAction.TAKE, lead_id, card)
    assert answer["show_alert"] is True and "уже обработан (нецелевой)" in answer["text"]
    assert await lead_status(container, lead_id) is LeadStatus.NON_TARGET


async def test_a_stranger_pressing_a_forwarded_button_is_told_so(container, fake_tg, team):
    lead_id, card = await card_for(container, fake_tg, team["anna"])
    data = LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack()
    update = fake_tg.callback_update(from_id=555, data=data, message=card)
    await deliver(container, update)
    [answer] = fake_tg.calls("answerCallbackQuery")
    assert answer.params["show_alert"] is True
    assert await lead_status(container, lead_id) is LeadStatus.NEW


async def test_a_redelivered_update_is_handled_once(container, fake_tg, team):
    anna = team["anna"]
    lead_id, card = await card_for(container, fake_tg, anna)
    data = LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack()
    update = fake_tg.callback_update(from_id=anna.telegram_id, data=data, message=card)
    await deliver(container, update)
    await deliver(container, update)
    assert len(fake_tg.calls("answerCallbackQuery")) == 1


async def test_an_employee_pressing_a_button_that_means_nothing_now_is_told_so(
    container, fake_tg, team
):
    lead_id, card = await card_for(container, fake_tg, team["anna"])
    update = fake_tg.callback_update(
        from_id=team["anna"].telegram_id, data="lead:gone:1", message=card
    )
    await deliver(container, update)
    [answer] = fake_tg.calls("answerCallbackQuery")
    assert answer.params["show_alert"] is True and answer.params["text"] == "Не найдено"
    assert await lead_status(container, lead_id) is LeadStatus.NEW


async def test_after_take_a_new_clients_card_still_says_new_client(container, fake_tg, team):
    """The deal Take opens is this lead's own event, not an earlier contact."""
    anna = team["anna"]
    lead_id, card = await card_for(container, fake_tg, anna)
    assert "Новый клиент" in card["text"]
    await press(container, fake_tg, anna, LeadAction.TAKE, lead_id, card)
    [edited] = fake_tg.sent_messages(anna.telegram_id)
    assert "Взял в работу: Анна" in edited["text"]
    assert "Новый клиент" in edited["text"]
    assert "Клиент уже обращался" not in edited["text"]
    assert "Открытые сделки" not in edited["text"]


async def test_a_second_lead_of_a_taken_client_shows_the_first_and_its_deal(
    container, fake_tg, team, clock
):
    """A positive control: what is left out is only the card's own event."""
    anna = team["anna"]
    lead_id, card = await card_for(container, fake_tg, anna)
    await press(container, fake_tg, anna, LeadAction.TAKE, lead_id, card)
    clock.advance(hours=1)
    await card_for_again(container)
    second = [m for m in fake_tg.sent_messages(anna.telegram_id) if m["message_id"] == 2]
    assert second, fake_tg.sent_messages(anna.telegram_id)
    text = second[0]["text"]
    assert "Клиент уже обращался" in text and "form:tilda (целевой)" in text
    assert "Открытые сделки" in text and "Иван — Первичный контакт" in text
    assert "Новый клиент" not in text


async def card_for_again(container) -> None:
    async with container.db.unit_of_work() as s:
        await leads.register_incoming(
            s,
            leads.LeadIn(source="form:site", phone="+79120001122", name="Иван", office="Москва"),
            company=container.company,
        )
    await container.pump.run_once()


@pytest.mark.parametrize(
    "data",
    ["lead:take:99999999999999999999999", "task:done:9223372036854775808", "x" * 5000],
)
async def test_a_forged_button_with_an_impossible_id_is_told_not_found(
    container, fake_tg, team, data
):
    lead_id, card = await card_for(container, fake_tg, team["anna"])
    update = fake_tg.callback_update(from_id=team["anna"].telegram_id, data=data, message=card)
    await deliver(container, update)
    [answer] = fake_tg.calls("answerCallbackQuery")
    assert answer.params["show_alert"] is True and answer.params["text"] == "Не найдено"
    assert await lead_status(container, lead_id) is LeadStatus.NEW


async def test_odd_but_valid_updates_get_no_error_reply(container, fake_tg, team):
    """A message without text, an unknown chat type, a sender id beyond 64 bits."""
    anna = team["anna"]
    odd = [
        {
            "message_id": 1,
            "date": 0,
            "chat": {"id": anna.telegram_id, "type": "private"},
            "from": {"id": anna.telegram_id, "is_bot": False, "first_name": "A"},
            "contact": {"phone_number": "+79120001122", "first_name": "Иван"},
        },
        {"message_id": 2, "date": 0, "chat": {"id": -5, "type": "weird"}, "text": "/start"},
        {
            "message_id": 3,
            "date": 0,
            "chat": {"id": 2**70, "type": "private"},
            "from": {"id": 2**70, "is_bot": False, "first_name": "B"},
            "text": "/start",
        },
    ]
    for n, message in enumerate(odd):
        await deliver(container, {"update_id": 9000 + n, "message": message})
    texts = [c.params.get("text") for c in fake_tg.calls("sendMessage")]
    assert "Что-то пошло не так, мы уже разбираемся" not in texts, texts
