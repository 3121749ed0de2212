"""After hours nothing sits unseen: a lead nobody may have waits in the queue, the admins are
shown it (also one who binds Telegram only later), and the first person to come on shift gets
it, with the call-back task of the missed call that opened it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from models import Lead, PhoneLine, Role, Task
from scheduler import jobs
from services import admins, employees
from tests import factories
from tests.chat import deliver
from tests.conftest import MSK

TOKEN = {"X-CRM-Token": "calls-secret"}
SUNDAY_NIGHT = datetime(2025, 12, 7, 3, 0, tzinfo=MSK)
MONDAY_9_05 = datetime(2025, 12, 8, 9, 5, tzinfo=MSK)


def missed_call(call_id: str = "night-1") -> dict:
    return {
        "call_id": call_id,
        "direction": "in",
        "from": "+7 912 000-11-22",
        "to": "8 800 555-35-35",
        "line": "+78005553535",
        "status": "missed",
        "started_at": SUNDAY_NIGHT.isoformat(),
    }


async def drain(container) -> None:
    while await container.pump.run_once():
        pass


def cards(fake_tg, chat_id: int) -> list[dict]:
    """The cards in a chat (not the bot's replies such as "your Telegram is bound")."""
    return [
        m for m in fake_tg.sent_messages(chat_id) if "#" in m["text"] or "Перезвонить" in m["text"]
    ]


async def lead_and_task(container) -> tuple[Lead, Task]:
    async with container.db.unit_of_work() as s:
        lead = (await s.execute(sa.select(Lead))).scalar_one()
        task = (await s.execute(sa.select(Task))).scalar_one()
    return lead, task


async def test_a_night_missed_call_waits_is_shown_to_a_late_admin_and_goes_to_the_morning_shift(
    web, container, fake_tg, clock
):
    container.settings.calls_token = "calls-secret"
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", shifts=factories.WEEKDAYS_9_TO_18)
        s.add(PhoneLine(number="+78005553535", name="Avito", source="avito", employee_id=anna.id))
        admin = await admins.create_admin(s, login="boss", password="secret-pass", now=clock.now())
    clock.set(SUNDAY_NIGHT)

    response = await web.post("/webhooks/calls", json=missed_call(), headers=TOKEN)
    assert response.status == 200, await response.text()
    await drain(container)
    lead, task = await lead_and_task(container)
    # Nobody may have it now: the lead and its call-back task wait together, for nobody yet.
    assert (lead.assignee_id, task.assignee_id) == (None, None)
    assert fake_tg.sent_messages() == []

    # The admin binds Telegram later that night: they are shown the waiting lead at once.
    await deliver(
        container, fake_tg.message_update(from_id=9001, text=f"/start {admin.invite_code}")
    )
    await drain(container)
    [shown] = cards(fake_tg, 9001)
    assert f"Лид #{lead.id} никому не назначен" in shown["text"]
    lead, task = await lead_and_task(container)
    assert (lead.assignee_id, task.assignee_id) == (None, None)  # nobody on duty at 3 a.m.
    assert fake_tg.sent_messages(anna.telegram_id) == []

    # Monday 09:05: Anna's shift has begun; the scheduled job hands the queue out.
    clock.set(MONDAY_9_05)
    summary = await jobs.run(jobs.by_name("hand_out_queue"), container.db, container.company)
    assert summary == "1 leads handed out, 0 still waiting"
    await drain(container)
    lead, task = await lead_and_task(container)
    assert (lead.assignee_id, task.assignee_id) == (anna.id, anna.id)
    texts = [m["text"] for m in cards(fake_tg, anna.telegram_id)]
    assert len(texts) == 2
    assert any(f"Новый лид #{lead.id}" in t for t in texts)  # the lead card
    assert any("Перезвонить" in t for t in texts)  # and the call-back task
    [admin_copy] = cards(fake_tg, 9001)  # edited in place: who has it now
    assert "никому не назначен" not in admin_copy["text"]
    assert "Ответственный: Анна" in admin_copy["text"]

    # A second run (another process, the next tick) changes nothing and sends nothing.
    again = await jobs.run(jobs.by_name("hand_out_queue"), container.db, container.company)
    assert again == "0 leads handed out, 0 still waiting"
    await drain(container)
    assert len(cards(fake_tg, anna.telegram_id)) == 2


async def test_an_employee_who_binds_telegram_on_shift_gets_the_waiting_lead(
    web, container, fake_tg, clock
):
    async with container.db.unit_of_work() as s:
        await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        new = await employees.add(s, name="Борис", role=Role.EMPLOYEE, now=clock.now())
    response = await web.post(
        "/webhooks/forms/site",
        json={"name": "Иван", "phone": "+79120001122"},
        headers={"X-CRM-Token": "form-secret"},
    )
    lead_id = (await response.json())["lead_id"]
    await deliver(container, fake_tg.message_update(from_id=7007, text=f"/start {new.invite_code}"))
    await drain(container)
    async with container.db.unit_of_work() as s:
        assert (await s.get(Lead, lead_id)).assignee_id == new.id
    [card] = cards(fake_tg, 7007)
    assert f"Новый лид #{lead_id}" in card["text"]


async def test_an_admin_who_takes_the_waiting_missed_call_gets_its_call_back_task_too(
    web, container, fake_tg, clock
):
    container.settings.calls_token = "calls-secret"
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", shifts=factories.WEEKDAYS_9_TO_18)
        s.add(PhoneLine(number="+78005553535", name="Avito", source="avito", employee_id=anna.id))
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
    clock.set(SUNDAY_NIGHT)
    await web.post("/webhooks/calls", json=missed_call(), headers=TOKEN)
    await drain(container)
    [card] = cards(fake_tg, admin.telegram_id)
    take = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await deliver(
        container,
        fake_tg.callback_update(from_id=admin.telegram_id, data=take, message=card),
    )
    await drain(container)
    lead, task = await lead_and_task(container)
    assert (lead.assignee_id, task.assignee_id) == (admin.id, admin.id)
    assert any("Перезвонить" in m["text"] for m in cards(fake_tg, admin.telegram_id))
    assert cards(fake_tg, anna.telegram_id) == []
