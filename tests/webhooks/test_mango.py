"""Mango Office events as Mango sends them: signed form posts of compact JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import (
    Call,
    CallStatus,
    Direction,
    InboundEvent,
    Lead,
    PhoneLine,
    Task,
    TaskKind,
    TaskStatus,
)
from services import leads
from services.actors import Actor
from services.leads import intake
from tests import factories
from tests.chat import deliver

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mango"
KEY, SALT = "vpbx-key-123", "vpbx-salt-456"


def scenario(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def signed(data: dict, key: str = KEY, salt: str = SALT) -> dict[str, str]:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return {
        "vpbx_api_key": key,
        "sign": hashlib.sha256((key + body + salt).encode()).hexdigest(),
        "json": body,
    }


async def post(web, event: str, data: dict, **signing) -> dict:
    response = await web.post(f"/webhooks/mango/events/{event}", data=signed(data, **signing))
    assert response.status == 200, await response.text()
    return await response.json()


async def drain(container) -> None:
    """Deliver everything due (one message per chat per round, as the pump does)."""
    while await container.pump.run_once():
        pass


async def play(web, name: str, container) -> None:
    for step in scenario(name):
        await post(web, step["event"], step["json"])
        await drain(container)


@pytest.fixture
async def anna(container, clock):
    container.settings.mango_api_key, container.settings.mango_api_salt = KEY, SALT
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Москва")
        anna.extension = "101"
        s.add(
            PhoneLine(
                number="+74951234567",
                name="Сайт, Москва",
                source="yandex-direct",
                office_id=anna.office_id,
            )
        )
    return anna


async def everything(container) -> dict[str, list]:
    async with container.db.unit_of_work() as s:
        return {
            name: list((await s.execute(sa.select(model).order_by(model.id))).scalars())
            for name, model in (
                ("calls", Call),
                ("leads", Lead),
                ("tasks", Task),
                ("events", InboundEvent),
            )
        }


async def test_an_answered_call_pops_up_one_card_that_follows_the_call(
    web, container, fake_tg, anna
):
    steps = scenario("answered_call")
    await post(web, "call", steps[0]["json"])  # Appeared
    await drain(container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Входящий звонок: +7 912 000-11-22" in card["text"]
    assert "Линия: yandex-direct" in card["text"] and "Новый клиент" in card["text"]
    assert "Звонит" in card["text"]

    await post(web, "call", steps[1]["json"])  # Connected
    await drain(container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Идёт разговор: Анна" in card["text"]

    for step in steps[2:]:  # Disconnected, summary, recording
        await post(web, step["event"], step["json"])
        await drain(container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Разговор завершён: Анна, 2:05" in card["text"]
    assert "Запись в Mango: MjQ1NTA0NTQ4NzM6MTAx" in card["text"]
    assert len(fake_tg.calls("sendMessage")) == 1  # one card, edited in place

    [call] = (await everything(container))["calls"]
    assert (call.direction, call.status, call.talk_seconds) == (
        Direction.IN,
        CallStatus.ANSWERED,
        125,
    )
    assert (call.client_number, call.employee_id) == ("+79120001122", anna.id)
    assert call.client_id is not None and call.line_id is not None
    assert (await everything(container))["leads"] == []  # answered: no lead from the PBX


async def test_a_known_caller_card_shows_name_owner_history_deals_and_tasks(
    web, container, fake_tg, anna
):
    async with container.db.unit_of_work() as s:
        first = await intake.register_incoming(
            s,
            intake.LeadIn(source="form:tilda", phone="+79120001122", name="Иван Петров"),
            company=container.company,
        )
        await leads.take(s, first.lead_id, by=Actor.of(anna), company=container.company)
        s.add(Task(title="Отправить замерщика", client_id=first.client_id, assignee_id=anna.id))
    await drain(container)  # the lead's card goes first
    fake_tg.requests.clear()
    await post(web, "call", scenario("answered_call")[0]["json"])
    await drain(container)
    text = fake_tg.calls("sendMessage")[-1].params["text"]
    for shown in (
        "Иван Петров",
        "Ответственный: Анна",
        "form:tilda",
        "Первичный контакт",
        "Отправить замерщика",
    ):
        assert shown in text
    assert "Новый клиент" not in text


async def test_a_missed_call_becomes_a_lead_and_a_call_back_task_with_a_done_button(
    web, container, fake_tg, anna
):
    await play(web, "missed_call", container)
    data = await everything(container)
    [call], [lead], [task] = data["calls"], data["leads"], data["tasks"]
    assert call.status is CallStatus.MISSED and call.lead_id == lead.id
    assert (lead.phone, lead.source, lead.line_id) == (
        "+79120003344",
        "call:yandex-direct",
        call.line_id,
    )
    assert (task.kind, task.status, task.assignee_id) == (
        TaskKind.CALL_BACK,
        TaskStatus.OPEN,
        anna.id,
    )
    texts = [m["text"] for m in fake_tg.sent_messages(anna.telegram_id)]
    assert any("Пропущенный звонок" in t for t in texts)  # the screen-pop card, edited
    assert any("Новый лид" in t for t in texts)
    [task_card] = [
        m
        for m in fake_tg.sent_messages(anna.telegram_id)
        if m["text"].startswith("<b>Перезвонить: +7 912 000-33-44")
    ]
    [[button]] = task_card["reply_markup"]["inline_keyboard"]
    assert button["text"] == "✅ Готово"

    update = fake_tg.callback_update(
        from_id=anna.telegram_id, data=button["callback_data"], message=task_card
    )
    await deliver(container, update)
    await drain(container)
    assert fake_tg.calls("answerCallbackQuery")[-1].params["text"] == "Задача закрыта"
    [task] = (await everything(container))["tasks"]
    assert task.status is TaskStatus.DONE
    [task_card] = [
        m for m in fake_tg.sent_messages(anna.telegram_id) if m["text"].startswith("<b>Перезвонить")
    ]
    assert "Сделано: Анна" in task_card["text"] and task_card["reply_markup"] is None


async def test_calling_the_client_back_closes_the_task_by_itself(web, container, fake_tg, anna):
    await play(web, "missed_call", container)
    await play(web, "call_back", container)
    calls, tasks = (await everything(container))["calls"], (await everything(container))["tasks"]
    assert [c.direction for c in calls] == [Direction.IN, Direction.OUT]
    [task] = tasks
    assert task.status is TaskStatus.DONE
    [card] = [
        m for m in fake_tg.sent_messages(anna.telegram_id) if m["text"].startswith("<b>Перезвонить")
    ]
    assert "Сделано" in card["text"] and card["reply_markup"] is None


async def test_a_missed_call_already_returned_creates_nothing(web, container, fake_tg, anna):
    # The call-back's summary arrives before the missed call's.
    await play(web, "call_back", container)
    await play(web, "missed_call", container)
    data = await everything(container)
    assert data["leads"] == [] and data["tasks"] == []


async def test_a_second_missed_call_adds_no_second_lead_or_task(web, container, fake_tg, anna):
    await play(web, "missed_call", container)
    again = scenario("missed_call")[-1]["json"] | {"entry_id": "another-entry"}
    await post(web, "summary", again)
    data = await everything(container)
    assert (len(data["calls"]), len(data["leads"]), len(data["tasks"])) == (2, 1, 1)


async def test_repeats_and_out_of_order_events_change_nothing(web, container, fake_tg, anna):
    appeared, connected, disconnected, summary, _ = (s["json"] for s in scenario("answered_call"))
    await post(web, "call", appeared)
    await post(web, "call", disconnected)  # seq 3 before seq 2
    late = await post(web, "call", connected)  # older than what we have: ignored
    repeat = await post(web, "call", disconnected)
    assert repeat["duplicate"] is True and late["duplicate"] is False
    await drain(container)
    [call] = (await everything(container))["calls"]
    assert call.phase.value == "ended"
    [card] = fake_tg.sent_messages(anna.telegram_id)
    assert "Идёт разговор" not in card["text"]
    await post(web, "summary", summary)
    assert (await post(web, "summary", summary))["duplicate"] is True
    assert len(fake_tg.calls("sendMessage")) == 1


@pytest.mark.parametrize(
    "tamper, status",
    [
        (lambda f: f | {"sign": "0" * 64}, 403),
        (lambda f: f | {"vpbx_api_key": "someone-else"}, 403),
        (lambda f: f | {"json": f["json"].replace("79120001122", "79990000000")}, 403),
        (lambda f: {k: v for k, v in f.items() if k != "sign"}, 401),
        (lambda f: {}, 401),
    ],
)
async def test_a_bad_or_missing_sign_is_refused_and_writes_nothing(
    web, container, fake_tg, anna, tamper, status
):
    form = tamper(signed(scenario("answered_call")[0]["json"]))
    response = await web.post("/webhooks/mango/events/call", data=form)
    assert response.status == status
    assert (await response.json())["error"]
    data = await everything(container)
    assert data["calls"] == [] and data["events"] == []
    await drain(container)
    assert fake_tg.calls("sendMessage") == []


async def test_events_the_product_does_not_use_get_200_and_are_ignored(web, container, anna):
    dtmf = {"seq": 1, "dtmf": "1", "timestamp": 1764572400, "call_id": "x", "entry_id": "y"}
    assert (await post(web, "dtmf", dtmf))["status"] == "ignored"
    assert (await everything(container))["calls"] == []


async def test_mango_is_refused_while_it_is_not_configured(web, container):
    response = await web.post(
        "/webhooks/mango/events/call", data=signed(scenario("answered_call")[0]["json"])
    )
    assert response.status == 403
    assert (await response.json())["error"] == "mango_off"


async def test_a_signed_but_malformed_event_gets_422(web, container, anna):
    response = await web.post(
        "/webhooks/mango/events/call", data=signed({"call_state": "Appeared", "seq": 1})
    )
    assert response.status == 422
    assert (await everything(container))["calls"] == []


async def test_with_a_public_url_the_mango_recording_opens_through_the_admin_web(
    web, container, fake_tg, anna, clock, aiohttp_server
):
    from aiohttp import web as aioweb

    from bot.telegram.sender import TelegramSender
    from models import Channel
    from services import admins
    from tests.admin_web.forms import sign_in

    asked: list[dict] = []

    async def recording_post(request: aioweb.Request) -> aioweb.Response:
        form = dict(await request.post())
        asked.append(form)
        raise aioweb.HTTPFound("https://files.mango.example/rec/MjQ1NTA0NTQ4NzM6MTAx.mp3")

    mango_app = aioweb.Application()
    mango_app.router.add_post("/vpbx/queries/recording/post", recording_post)
    mango = await aiohttp_server(mango_app)
    container.settings.mango_api_base = f"http://127.0.0.1:{mango.port}/vpbx"
    container.settings.public_url = "https://crm.example.ru"
    container.pump.senders[Channel.TELEGRAM] = TelegramSender(
        container.bot, public_url="https://crm.example.ru"
    )
    await play(web, "answered_call", container)
    [card] = fake_tg.sent_messages(anna.telegram_id)
    [[button]] = card["reply_markup"]["inline_keyboard"]
    assert button["url"].startswith("https://crm.example.ru/admin/calls/")
    path = button["url"].removeprefix("https://crm.example.ru")

    assert (await web.get(path, allow_redirects=False)).headers["Location"] == "/admin/login"
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    assert (await sign_in(web, "boss", "correct horse")).status == 302
    response = await web.get(path, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].endswith("/rec/MjQ1NTA0NTQ4NzM6MTAx.mp3")
    [form] = asked
    assert json.loads(form["json"]) == {
        "recording_id": "MjQ1NTA0NTQ4NzM6MTAx",
        "action": "download",
    }
    assert form["sign"] == hashlib.sha256((KEY + form["json"] + SALT).encode()).hexdigest()


async def test_state_changes_while_an_edit_waits_make_no_second_edit(web, container, anna):
    from models import OutboxMessage, OutboxStatus

    appeared, connected, disconnected, summary, _ = (s["json"] for s in scenario("answered_call"))
    await post(web, "call", appeared)
    await drain(container)  # the card is out
    for data, event in ((connected, "call"), (disconnected, "call"), (summary, "summary")):
        await post(web, event, data)
    async with container.db.unit_of_work() as s:
        waiting = (
            (
                await s.execute(
                    sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                )
            )
            .scalars()
            .all()
        )
    assert len(waiting) == 1 and waiting[0].edit_of_id is not None


async def test_a_queue_call_rings_two_employees_and_both_cards_show_who_answered(
    web, container, fake_tg, anna, clock
):
    async with container.db.unit_of_work() as s:
        boris = await factories.employee(s, clock, name="Борис", office="Москва")
        boris.extension = "102"
    t, entry, caller = 1764572400, "queue-entry-1", {"number": "79120005566"}
    ivr = {
        "entry_id": entry,
        "call_id": "ivr-leg",
        "timestamp": t,
        "seq": 1,
        "call_state": "Appeared",
        "location": "ivr",
        "from": caller,
        "to": {"number": "74951234567", "line_number": "74951234567"},
    }

    def leg(name: str, ext: str, seq: int, state: str, at: int, **extra) -> dict:
        return {
            "entry_id": entry,
            "call_id": name,
            "timestamp": at,
            "seq": seq,
            "call_state": state,
            "location": "abonent",
            "from": caller | {"taken_from_call_id": "ivr-leg"},
            "to": {"extension": ext, "line_number": "74951234567"},
            **extra,
        }

    await post(web, "call", ivr)
    await post(web, "call", ivr | {"seq": 2, "call_state": "Disconnected", "timestamp": t + 8})
    await post(web, "call", leg("leg-a", "101", 1, "Appeared", t + 8))
    await post(web, "call", leg("leg-b", "102", 1, "Appeared", t + 8))
    await drain(container)
    for person in (anna, boris):
        [card] = fake_tg.sent_messages(person.telegram_id)
        assert "Входящий звонок: +7 912 000-55-66" in card["text"] and "Звонит" in card["text"]
    await post(web, "call", leg("leg-b", "102", 2, "Connected", t + 12))
    await post(web, "call", leg("leg-a", "101", 2, "Disconnected", t + 12, disconnect_reason=1122))
    await drain(container)
    for person in (anna, boris):
        [card] = fake_tg.sent_messages(person.telegram_id)
        assert "Идёт разговор: Борис" in card["text"], card["text"]
    [call] = (await everything(container))["calls"]
    assert (call.employee_id, call.phase.value) == (boris.id, "talking")


async def test_a_ringing_event_arriving_after_the_summary_pops_nothing_up(
    web, container, fake_tg, anna
):
    appeared, *_, summary, _ = (s["json"] for s in scenario("answered_call"))
    await post(web, "summary", summary)
    await post(web, "call", appeared)
    await drain(container)
    assert fake_tg.calls("sendMessage") == []
    [call] = (await everything(container))["calls"]
    assert call.status is CallStatus.ANSWERED and call.phase.value == "ended"


async def test_a_first_missed_calls_screen_pop_says_new_client_not_its_own_lead_and_task(
    web, container, fake_tg, anna
):
    """The lead and the call-back task the missed call made are not the caller's history."""
    await play(web, "missed_call", container)
    [card] = [m for m in fake_tg.sent_messages(anna.telegram_id) if "Входящий звонок" in m["text"]]
    assert "Пропущенный звонок" in card["text"] and "Новый клиент" in card["text"]
    for own in ("Последние обращения", "call:yandex-direct", "Открытые задачи", "Перезвонить"):
        assert own not in card["text"]
