"""POST /webhooks/calls: any PBX with a webhook gets the same behaviour as Mango."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import Call, CallStatus, Lead, PhoneLine, Task, TaskStatus
from tests import factories

TOKEN = {"X-CRM-Token": "calls-secret"}


@pytest.fixture
async def anna(container, clock):
    container.settings.calls_token = "calls-secret"
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
        anna.extension = "201"
        s.add(PhoneLine(number="+78005553535", name="Avito", source="avito", employee_id=anna.id))
    return anna


async def drain(container) -> None:
    while await container.pump.run_once():
        pass


def call(**fields) -> dict:
    return {
        "call_id": "pbx-1",
        "direction": "in",
        "from": "+7 912 000-11-22",
        "to": "8 800 555-35-35",
        "line": "+78005553535",
        "started_at": "2025-12-01T10:00:00+03:00",
        **fields,
    }


async def test_ringing_pops_up_the_card_for_the_lines_owner_then_the_answer_updates_it(
    web, container, fake_tg, anna
):
    response = await web.post("/webhooks/calls", json=call(status="ringing"), headers=TOKEN)
    assert response.status == 200, await response.text()
    await drain(container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Входящий звонок: +7 912 000-11-22" in card["text"] and "Линия: avito" in card["text"]
    done = call(
        status="answered",
        duration=75,
        employee="201",
        recording_url="https://pbx.example.ru/rec/pbx-1.mp3",
    )
    assert (await web.post("/webhooks/calls", json=done, headers=TOKEN)).status == 200
    await drain(container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Разговор завершён: Анна, 1:15" in card["text"]
    [[button]] = card["reply_markup"]["inline_keyboard"]
    assert button == {"text": "🎧 Запись разговора", "url": "https://pbx.example.ru/rec/pbx-1.mp3"}
    async with container.db.unit_of_work() as s:
        [row] = (await s.execute(sa.select(Call))).scalars().all()
    assert (row.status, row.talk_seconds, row.employee_id) == (CallStatus.ANSWERED, 75, anna.id)


async def test_a_missed_call_makes_a_lead_attributed_to_the_line_and_a_task(
    web, container, fake_tg, anna
):
    response = await web.post("/webhooks/calls", json=call(status="missed"), headers=TOKEN)
    assert response.status == 200
    async with container.db.unit_of_work() as s:
        [lead] = (await s.execute(sa.select(Lead))).scalars().all()
        [task] = (await s.execute(sa.select(Task))).scalars().all()
        line = (await s.execute(sa.select(PhoneLine))).scalar_one()
    assert (lead.source, lead.line_id, lead.assignee_id) == ("call:avito", line.id, anna.id)
    assert task.status is TaskStatus.OPEN and task.assignee_id == anna.id
    back = call(
        call_id="pbx-2",
        direction="out",
        status="answered",
        duration=30,
        started_at="2025-12-01T10:05:00+03:00",
        **{"from": "201", "to": "89120001122"},
    )
    assert (await web.post("/webhooks/calls", json=back, headers=TOKEN)).status == 200
    async with container.db.unit_of_work() as s:
        assert (await s.get(Task, task.id)).status is TaskStatus.DONE


@pytest.mark.parametrize("headers, status", [({}, 401), ({"X-CRM-Token": "nope"}, 401)])
async def test_without_the_token_nothing_is_written(web, container, anna, headers, status):
    response = await web.post("/webhooks/calls", json=call(status="missed"), headers=headers)
    assert response.status == status
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Call) == 0


@pytest.mark.parametrize(
    "body",
    [
        call(status="exploded"),
        call(direction="sideways", status="missed"),
        {k: v for k, v in call(status="missed").items() if k != "call_id"},
        call(status="missed", started_at="yesterday"),
    ],
)
async def test_malformed_calls_get_422_and_write_nothing(web, container, anna, body):
    response = await web.post("/webhooks/calls", json=body, headers=TOKEN)
    assert response.status == 422
    assert (await response.json())["details"]
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Call) == 0


async def test_the_same_event_twice_is_one_call(web, container, anna):
    for _ in range(2):
        response = await web.post("/webhooks/calls", json=call(status="missed"), headers=TOKEN)
    assert (await response.json())["duplicate"] is True
    async with container.db.unit_of_work() as s:
        assert (await factories.count(s, Call), await factories.count(s, Lead)) == (1, 1)


async def test_the_calls_webhook_is_off_without_calls_token(web, container):
    response = await web.post("/webhooks/calls", json=call(status="missed"), headers=TOKEN)
    assert response.status == 403


async def test_a_form_lead_from_someone_who_called_shows_the_call_on_the_card(
    web, container, fake_tg, anna
):
    answered = call(status="answered", duration=40, employee="201")
    assert (await web.post("/webhooks/calls", json=answered, headers=TOKEN)).status == 200
    container.company.clock.advance(hours=2)
    response = await web.post(
        "/webhooks/forms/site",
        headers={"X-CRM-Token": "form-secret"},
        json={"name": "Иван", "phone": "89120001122"},
    )
    assert response.status == 200
    await drain(container)
    [lead_card] = [m for m in fake_tg.sent_messages(anna.telegram_id) if "Новый лид" in m["text"]]
    assert "Клиент уже обращался" in lead_card["text"]
    assert "1 дек. 2025, 10:00 · входящий звонок" in lead_card["text"]


def card_starting(fake_tg, who, prefix: str) -> dict:
    [card] = [m for m in fake_tg.sent_messages(who.telegram_id) if prefix in m["text"]]
    return card


async def test_a_first_missed_call_is_a_new_client_on_its_lead_and_task_cards(
    web, container, fake_tg, anna
):
    """The call, the lead it made and its call-back task are one event: no card shows the
    others as earlier history."""
    response = await web.post("/webhooks/calls", json=call(status="missed"), headers=TOKEN)
    assert response.status == 200
    await drain(container)
    lead_card = card_starting(fake_tg, anna, "Новый лид")
    assert "Новый клиент" in lead_card["text"]
    assert "Клиент уже обращался" not in lead_card["text"]
    assert "пропущенный звонок" not in lead_card["text"]
    task_card = card_starting(fake_tg, anna, "Перезвонить: +7 912 000-11-22")
    assert "Новый клиент" in task_card["text"]
    for earlier in ("Последние обращения", "call:avito", "пропущенный звонок", "Открытые задачи"):
        assert earlier not in task_card["text"]
    assert task_card["text"].count("Перезвонить") == 1


async def test_a_form_lead_after_a_missed_call_shows_the_call_and_the_open_task(
    web, container, fake_tg, anna
):
    """A positive control: for the next event, the missed call is earlier history."""
    assert (await web.post("/webhooks/calls", json=call(status="missed"), headers=TOKEN)).ok
    await drain(container)
    container.company.clock.advance(hours=1)
    response = await web.post(
        "/webhooks/forms/site",
        headers={"X-CRM-Token": "form-secret"},
        json={"name": "Иван", "phone": "89120001122"},
    )
    assert response.status == 200
    await drain(container)
    texts = [m["text"] for m in fake_tg.sent_messages(anna.telegram_id) if "form:site" in m["text"]]
    assert texts, fake_tg.sent_messages(anna.telegram_id)
    text = texts[0]
    assert "Клиент уже обращался" in text and "пропущенный звонок" in text
    assert "Открытые задачи" in text and "Перезвонить: +7 912 000-11-22" in text


# The examples of the README's "Generic call webhook" section, as a PBX would post them.
README_EXAMPLES = [
    {
        "call_id": "c-1001",
        "direction": "in",
        "from": "+79120001122",
        "to": "+78005553535",
        "line": "+78005553535",
        "status": "ringing",
        "started_at": "2025-12-01T10:00:00+03:00",
        "employee": "201",
    },
    {
        "call_id": "c-1001",
        "direction": "in",
        "from": "+79120001122",
        "to": "+78005553535",
        "line": "+78005553535",
        "status": "connected",
        "started_at": "2025-12-01T10:00:00+03:00",
        "employee": "201",
    },
    {
        "call_id": "c-1001",
        "direction": "in",
        "from": "+79120001122",
        "to": "+78005553535",
        "line": "+78005553535",
        "status": "answered",
        "started_at": 1764572400,
        "duration": 75,
        "employee": "201",
        "recording_url": "https://pbx.example.ru/rec/c-1001.mp3",
    },
    {
        "call_id": "c-1002",
        "direction": "in",
        "from": "8 (912) 000-33-44",
        "to": "+78005553535",
        "line": "+78005553535",
        "status": "missed",
        "started_at": "2025-12-01T10:20:00+03:00",
    },
    {
        "call_id": "c-1003",
        "direction": "out",
        "from": "201",
        "to": "89120003344",
        "status": "answered",
        "started_at": "2025-12-01T10:25:00+03:00",
        "duration": 30,
    },
]


async def test_the_documented_examples_do_what_the_readme_says(web, container, fake_tg, anna):
    async def post(body: dict, **query) -> dict:
        response = await web.post("/webhooks/calls", json=body, params=query)
        assert response.status == 200, await response.text()
        await drain(container)
        return await response.json()

    ringing, connected, answered, missed, called_back = README_EXAMPLES
    first = await post(ringing, token="calls-secret")  # ?token= works as well as the header
    assert first["duplicate"] is False and isinstance(first["call_id"], int)
    assert "Звонит" in card_starting(fake_tg, anna, "Входящий звонок: +7 912 000-11-22")["text"]
    await post(connected, token="calls-secret")
    assert "Идёт разговор: Анна" in card_starting(fake_tg, anna, "000-11-22")["text"]
    await post(answered, token="calls-secret")
    card = card_starting(fake_tg, anna, "000-11-22")
    assert "Разговор завершён: Анна, 1:15" in card["text"]
    assert card["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("/c-1001.mp3")
    assert (await post(answered, token="calls-secret"))["duplicate"] is True
    await post(missed, token="calls-secret")
    assert "Новый лид" in card_starting(fake_tg, anna, "call:avito")["text"]
    task_card = card_starting(fake_tg, anna, "Перезвонить: +7 912 000-33-44")
    assert task_card["reply_markup"] is not None
    await post(called_back, token="calls-secret")
    task_card = card_starting(fake_tg, anna, "Перезвонить: +7 912 000-33-44")
    assert "Сделано: Анна" in task_card["text"] and task_card["reply_markup"] is None
    async with container.db.unit_of_work() as s:
        calls = (await s.execute(sa.select(Call).order_by(Call.id))).scalars().all()
    assert [(c.status, c.talk_seconds) for c in calls] == [
        (CallStatus.ANSWERED, 75),
        (CallStatus.MISSED, 0),
        (CallStatus.ANSWERED, 30),
    ]
