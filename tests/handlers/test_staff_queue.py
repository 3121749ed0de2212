"""/queue in Telegram: managers and admins see the leads nobody has and give them out."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.callbacks import LeadAction, LeadCallback, QueueAction, QueueCallback
from models import Employee, Lead, Role
from services import employees, leads
from tests import factories
from tests.chat import deliver
from tests.conftest import MSK

SUNDAY_NIGHT = datetime(2025, 12, 7, 3, 0, tzinfo=MSK)


@pytest.fixture
async def office(container, clock):
    """Anna works weekdays; at Sunday night nobody is on duty and there is no office manager
    in Kazan, so a Kazan lead waits in the queue. Vera manages Moscow; the admin sees all."""
    async with container.db.unit_of_work() as s:
        people = {
            "anna": await factories.employee(
                s, clock, name="Анна", office="Казань", shifts=factories.WEEKDAYS_9_TO_18
            ),
            "boris": await factories.employee(
                s, clock, name="Борис", office="Казань", shifts=[(6, "00:00", "00:00")]
            ),
            "vera": await factories.employee(
                s, clock, name="Вера", office="Москва", role=Role.MANAGER
            ),
            "admin": await factories.employee(s, clock, name="Админ", role=Role.ADMIN),
        }
        people["boris"].on_shift = False  # on a break for now
    clock.set(SUNDAY_NIGHT)
    return people


async def waiting_lead(container, office: str = "Казань") -> int:
    async with container.db.unit_of_work() as s:
        result = await leads.register_incoming(
            s,
            leads.LeadIn(source="form:site", phone="+79120001122", name="Иван", office=office),
            company=container.company,
        )
    assert result.assignee_id is None
    await drain(container)
    return result.lead_id


async def drain(container) -> None:
    while await container.pump.run_once():
        pass


async def say(container, fake_tg, who, text: str) -> list:
    before = len(fake_tg.calls("sendMessage"))
    await deliver(container, fake_tg.message_update(from_id=who.telegram_id, text=text))
    return fake_tg.calls("sendMessage")[before:]


async def press(container, fake_tg, who, data: str, message: dict) -> dict:
    update = fake_tg.callback_update(from_id=who.telegram_id, data=data, message=message)
    await deliver(container, update)
    [answer] = [
        c
        for c in fake_tg.calls("answerCallbackQuery")
        if c.params["callback_query_id"] == update["callback_query"]["id"]
    ]
    await drain(container)
    return answer.params


def last_message(fake_tg, who) -> dict:
    return fake_tg.sent_messages(who.telegram_id)[-1]


async def assignee(container, lead_id: int) -> int | None:
    async with container.db.unit_of_work() as s:
        return (await s.get(Lead, lead_id)).assignee_id


async def test_the_admin_takes_a_waiting_lead_from_the_queue_and_gets_its_card(
    container, fake_tg, office
):
    admin = office["admin"]
    lead_id = await waiting_lead(container)
    [reply] = await say(container, fake_tg, admin, "/queue")
    assert "Очередь: 1" in reply.params["text"] and f"#{lead_id}" in reply.params["text"]
    queue = last_message(fake_tg, admin)
    [mine, _pick] = queue["reply_markup"]["inline_keyboard"][0]
    assert mine["text"] == f"#{lead_id} → мне"
    answer = await press(container, fake_tg, admin, mine["callback_data"], queue)
    assert answer["text"] == f"Лид #{lead_id} передан: Админ"
    assert await assignee(container, lead_id) == admin.id
    # The queue message now says it is empty; the admin's card shows the lead is theirs.
    texts = [m["text"] for m in fake_tg.sent_messages(admin.telegram_id)]
    assert any("Очередь пуста" in t for t in texts)
    assert any(f"лид #{lead_id}" in t and "Ответственный: Админ" in t for t in texts)


async def test_the_admin_gives_a_waiting_lead_to_someone_on_duty(container, fake_tg, office):
    admin, boris = office["admin"], office["boris"]
    lead_id = await waiting_lead(container)
    async with container.db.unit_of_work() as s:
        (await s.get(Employee, boris.id)).on_shift = True  # back from the break, on his 24 h shift
    await say(container, fake_tg, admin, "/queue")
    queue = last_message(fake_tg, admin)
    pick = queue["reply_markup"]["inline_keyboard"][0][1]
    await press(container, fake_tg, admin, pick["callback_data"], queue)
    chooser = last_message(fake_tg, admin)
    names = [row[0]["text"] for row in chooser["reply_markup"]["inline_keyboard"]]
    assert names[0] == "Борис" and "Анна" not in names  # only who is on duty now
    give = chooser["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    answer = await press(container, fake_tg, admin, give, chooser)
    assert answer["text"] == f"Лид #{lead_id} передан: Борис"
    assert await assignee(container, lead_id) == boris.id
    [card] = fake_tg.sent_messages(boris.telegram_id)
    assert f"Новый лид #{lead_id}" in card["text"]
    # The unassigned copy the admin got when the lead came is edited to show who has it.
    [copy] = [m for m in fake_tg.sent_messages(admin.telegram_id) if "Имя: Иван" in m["text"]]
    assert "никому не назначен" not in copy["text"] and "Ответственный: Борис" in copy["text"]


async def test_a_manager_sees_only_their_office_and_cannot_give_out_another(
    container, fake_tg, office
):
    vera = office["vera"]
    kazan = await waiting_lead(container)
    [reply] = await say(container, fake_tg, vera, "/queue")
    assert "Очередь пуста" in reply.params["text"]  # the Kazan lead is not hers to give
    forged = QueueCallback(action=QueueAction.MINE, lead_id=kazan).pack()
    answer = await press(container, fake_tg, vera, forged, last_message(fake_tg, vera))
    assert answer["show_alert"] is True and "руководитель офиса" in answer["text"]
    assert await assignee(container, kazan) is None


async def test_an_employee_has_no_queue(container, fake_tg, office):
    await waiting_lead(container)
    assert await say(container, fake_tg, office["anna"], "/queue") == []


async def test_a_deactivated_employee_gets_no_leads_and_their_buttons_stop_working(
    container, fake_tg, office, clock
):
    anna = office["anna"]
    clock.set(datetime(2025, 12, 8, 10, 0, tzinfo=MSK))  # Monday: Anna is on duty
    async with container.db.unit_of_work() as s:
        result = await leads.register_incoming(
            s, leads.LeadIn(source="form:site", phone="+79120001122"), company=container.company
        )
    await drain(container)
    assert result.assignee_id == anna.id
    [card] = fake_tg.sent_messages(anna.telegram_id)
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, anna.id, False, company=container.company)
    await drain(container)
    # Her untaken lead went back to the queue (nobody else is on duty) and the admin saw it.
    assert await assignee(container, result.lead_id) is None
    admin_cards = fake_tg.sent_messages(office["admin"].telegram_id)
    assert any(f"Лид #{result.lead_id} никому не назначен" in m["text"] for m in admin_cards)
    [her_copy] = fake_tg.sent_messages(anna.telegram_id)
    assert her_copy["reply_markup"] is None  # her copy was edited and lost its buttons
    take = LeadCallback(action=LeadAction.TAKE, lead_id=result.lead_id).pack()
    answer = await press(container, fake_tg, anna, take, card)
    assert answer["show_alert"] is True and answer["text"].startswith("Ваш доступ к боту отключён")
    assert await assignee(container, result.lead_id) is None
    async with container.db.unit_of_work() as s:
        later = await leads.register_incoming(
            s, leads.LeadIn(source="form:site", phone="+79120003344"), company=container.company
        )
    assert later.assignee_id != anna.id
