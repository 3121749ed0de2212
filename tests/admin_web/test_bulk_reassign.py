"""The deal list and a bulk reassign through the admin web, as a browser sends them: counted
on one page, applied on the next, undone from the operation's page; and each refusal (no
session, a forged form, another office, a count that changed, hostile query strings)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import BulkOperation, Client, Deal, DealStatus, OutboxMessage, PipelineStage, Role
from services import admins, bulk
from services.deals import pipeline
from tests import factories
from tests.admin_web.forms import page_token, sign_in
from tests.chat import drain

_DEAL_ROW = re.compile(r'<tr data-deal="(\d+)">')


async def _deal(s, owner, title: str, *, status=DealStatus.OPEN, amount=None) -> int:
    client = Client(name=f"Клиент {title}", owner_id=owner.id, office_id=owner.office_id)
    s.add(client)
    await s.flush()
    pipeline_id = await pipeline.default_pipeline_id(s)
    deal = Deal(
        client_id=client.id,
        pipeline_id=pipeline_id,
        stage_id=await pipeline.working_stage_id(s, pipeline_id),
        title=title,
        owner_id=owner.id,
        office_id=owner.office_id,
        status=status,
        amount=amount,
    )
    s.add(deal)
    await s.flush()
    return deal.id


async def _office(container, clock):
    """An admin, a manager of Центр, two sellers there and one in Север, with deals."""
    async with container.db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        boris = await factories.employee(s, clock, name="Борис", office="Центр")
        olga = await factories.employee(s, clock, name="Ольга", office="Север")
        for who, login in ((admin, "admin"), (boss, "petr")):
            await admins.give_login(
                s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
            )
        deals = {
            "a1": await _deal(s, anna, "Окна в дом"),
            "a2": await _deal(s, anna, "Балкон"),
            "a3": await _deal(s, anna, "Двери", status=DealStatus.WON),
            "o1": await _deal(s, olga, "Окна на дачу"),
        }
        people = {p.name: p.id for p in (admin, boss, anna, boris, olga)}
    return people, deals


async def _owners(container) -> dict[int, int | None]:
    async with container.db.unit_of_work() as s:
        return dict((await s.execute(sa.select(Deal.id, Deal.owner_id))).all())


def _rows(page: str) -> list[int]:
    return [int(i) for i in _DEAL_ROW.findall(page)]


async def test_ticked_deals_are_counted_given_and_given_back(web, container, clock):
    people, deals = await _office(container, clock)
    await sign_in(web, "admin", "good horse 1")
    listed = await web.get("/admin/deals", params={"owner": people["Анна"]})
    assert sorted(_rows(await listed.text())) == sorted([deals["a1"], deals["a2"], deals["a3"]])

    ticked = [("id", deals["a1"]), ("id", deals["a3"]), ("to", people["Борис"])]
    plan = await web.get("/admin/deals/reassign", params=[*ticked, ("carry", "task")])
    text = await plan.text()
    assert plan.status == 200
    assert "Передать 1 сделку → Борис." in text
    assert "Закрытые (выигранные и проигранные) остаются как есть: 1." in text
    assert await _owners(container) == {
        deals["a1"]: people["Анна"],
        deals["a2"]: people["Анна"],
        deals["a3"]: people["Анна"],
        deals["o1"]: people["Ольга"],
    }  # counting wrote nothing

    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', text))
    form["id"] = str(deals["a1"])
    applied = await web.post("/admin/deals/reassign", data=form, allow_redirects=False)
    assert applied.status == 302
    op_page = await web.get(applied.headers["Location"])
    page = await op_page.text()
    assert "Админ: 1 сделка → Борис" in page and "Отменить" in page
    owners = await _owners(container)
    assert (owners[deals["a1"]], owners[deals["a3"]]) == (people["Борис"], people["Анна"])

    token = await page_token(web, applied.headers["Location"])
    undone = await web.post(
        applied.headers["Location"] + "/undo", data={"csrf_token": token}, allow_redirects=False
    )
    assert undone.status == 302
    page = await (await web.get(undone.headers["Location"])).text()
    assert "Отменено" in page and "Вернулось: 1 сделка." in page
    assert (await _owners(container))[deals["a1"]] == people["Анна"]
    again = await web.post(
        applied.headers["Location"] + "/undo", data={"csrf_token": token}, allow_redirects=False
    )
    assert again.status == 409 and "уже отменено" in await again.text()
    history = await (await web.get("/admin/bulk")).text()
    assert 'data-operation="' in history and "Отменено" in history


async def test_all_deals_matching_the_filter_go_in_one_change_with_one_message_each(
    web, container, clock
):
    people, deals = await _office(container, clock)
    await sign_in(web, "admin", "good horse 1")
    query = {"q": "окна", "scope": "all", "to": people["Борис"]}
    plan = await (await web.get("/admin/deals/reassign", params=query)).text()
    assert "Передать 2 сделки → Борис." in plan  # Анна's and Ольга's "Окна", any case
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan))
    assert form["expected"] == "2"
    applied = await web.post("/admin/deals/reassign", data=form, allow_redirects=False)
    assert applied.status == 302
    owners = await _owners(container)
    assert owners[deals["a1"]] == owners[deals["o1"]] == people["Борис"]
    assert owners[deals["a2"]] == people["Анна"]
    async with container.db.unit_of_work() as s:
        kinds = (
            await s.execute(
                sa.select(OutboxMessage.payload).where(OutboxMessage.kind == bulk.SUMMARY)
            )
        ).scalars()
        assert sorted(p["event"] for p in kinds) == ["given", "taken", "taken"]


async def test_a_count_that_changed_meanwhile_is_refused_and_nothing_moves(web, container, clock):
    people, _deals = await _office(container, clock)
    await sign_in(web, "admin", "good horse 1")
    query = {"scope": "all", "owner": people["Анна"], "to": people["Борис"]}
    plan = await (await web.get("/admin/deals/reassign", params=query)).text()
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan))
    async with container.db.unit_of_work() as s:  # a new deal of Анна's arrives meanwhile
        anna = await s.get(factories.Employee, people["Анна"])
        await _deal(s, anna, "Новая")
    refused = await web.post("/admin/deals/reassign", data=form, allow_redirects=False)
    assert refused.status == 409
    assert "теперь подходит 3" in await refused.text()
    assert people["Борис"] not in (await _owners(container)).values()
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, BulkOperation) == 0


async def test_refusals_no_session_forged_form_other_office_and_someone_else_s_change(
    web, aiohttp_client, container, clock
):
    people, deals = await _office(container, clock)
    apply = {"scope": "selected", "id": str(deals["a1"]), "to": people["Борис"], "expected": "1"}
    stranger = await aiohttp_client(web.server.app)
    for path in ("/admin/deals", "/admin/bulk", "/admin/deals/reassign"):
        assert (await stranger.get(path, allow_redirects=False)).status == 302
    refused = await stranger.post("/admin/deals/reassign", data=apply, allow_redirects=False)
    assert refused.status in (302, 403)

    await sign_in(web, "petr", "good horse 1")  # the manager of Центр
    forged = await web.post("/admin/deals/reassign", data=apply, allow_redirects=False)
    assert forged.status == 403  # no CSRF token
    listed = _rows(await (await web.get("/admin/deals")).text())
    assert deals["o1"] not in listed and deals["a1"] in listed
    # Another office's deal ticked by hand is not counted, nor moved.
    plan = await (
        await web.get(
            "/admin/deals/reassign",
            params=[("id", deals["o1"]), ("id", deals["a2"]), ("to", people["Борис"])],
        )
    ).text()
    assert "Передать 1 сделку → Борис." in plan
    # Giving to someone of another office is refused with the reason.
    elsewhere = await web.get(
        "/admin/deals/reassign", params={"id": deals["a2"], "to": people["Ольга"]}
    )
    assert elsewhere.status == 403 and "только сотрудникам своего офиса" in await elsewhere.text()
    nobody = await web.get("/admin/deals/reassign", params={"id": deals["a2"]})
    assert nobody.status == 422 and "кому передать" in await nobody.text()

    other = await aiohttp_client(web.server.app)  # the admin, elsewhere, makes a change
    await sign_in(other, "admin", "good horse 1")
    plan = await (
        await other.get("/admin/deals/reassign", params={"id": deals["o1"], "to": people["Анна"]})
    ).text()
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan))
    form["id"] = str(deals["o1"])
    made = await other.post("/admin/deals/reassign", data=form, allow_redirects=False)
    op_path = made.headers["Location"]
    assert (await web.get(op_path)).status == 404  # the manager does not see the admin's
    token = await page_token(web, "/admin/deals")
    undo = await web.post(op_path + "/undo", data={"csrf_token": token}, allow_redirects=False)
    assert undo.status == 404
    assert (await _owners(container))[deals["o1"]] == people["Анна"]


async def test_the_deal_list_sorts_and_pages_keeping_its_filters(web, container, clock):
    people, _deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        anna = await s.get(factories.Employee, people["Анна"])
        made = [await _deal(s, anna, f"Пакет {i}", amount=i * 100) for i in range(60)]
    await sign_in(web, "admin", "good horse 1")
    first = await (await web.get("/admin/deals", params={"q": "пакет", "sort": "amount"})).text()
    assert _rows(first) == made[::-1][:50]  # the largest amount first
    after = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=" in after and "sort=amount" in after
    second = await (await web.get(after)).text()
    assert _rows(second) == made[::-1][50:]
    assert 'rel="next"' not in second


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "owner",
                "office",
                "stage",
                "status",
                "since",
                "until",
                "q",
                "sort",
                "after",
                "scope",
                "id",
                "to",
                "carry",
                "tag",
                "stage",
                "to_stage",
                "reason",
                "reason_text",
                "title",
                "due",
                "assignee",
                "overdue",
                "format",
                "direction",
                "category",
                "employee",
                "preset",
                "close",
                "mark",
                "source",
            ]
        ),
        st.one_of(
            st.text(max_size=80),
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.sampled_from(
                [
                    "1",
                    "6",
                    "price",
                    "amount",
                    "name",
                    "all",
                    "task",
                    "9~9",
                    "1e999~3",
                    "2026-03-29T02:30",
                    "spam:robot",
                    "non_target:duplicate",
                ]
            ),
        ),
        max_size=6,
    ),
    path=st.sampled_from(
        [
            "/admin/deals",
            "/admin/deals/reassign",
            "/admin/deals/move",
            "/admin/clients",
            "/admin/clients/reassign",
            "/admin/deals/tasks",
            "/admin/clients/tasks",
            "/admin/tasks",
            "/admin/tasks/reassign",
            "/admin/tasks/close",
            "/admin/",
            "/admin/leads",
            "/admin/leads/export",
            "/admin/leads/reject",
            "/admin/deals/delete",
            "/admin/tasks/delete",
            "/admin/clients/delete",
            "/admin/deals/export",
            "/admin/clients/export",
            "/admin/tasks/export",
            "/admin/calls",
            "/admin/tickets",
            "/admin/calls/export",
            "/admin/reports",
            "/admin/reports/export",
        ]
    ),
)
async def test_hostile_query_strings_get_a_page_never_a_5xx(web, container, clock, params, path):
    if not getattr(web, "signed_in", False):
        await _office(container, clock)
        await sign_in(web, "admin", "good horse 1")
        web.signed_in = True
    clean = {k: v.replace("\x00", "") for k, v in params.items()}
    response = await web.get(path, params=clean, allow_redirects=False)
    assert response.status in (200, 403, 404, 409, 422), (response.status, clean)


async def test_each_person_gets_one_message_in_their_language_and_another_on_undo(
    web, container, clock, fake_tg
):
    people, _deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        boris = await s.get(factories.Employee, people["Борис"])
        boris.locale = "en"
        anna = await s.get(factories.Employee, people["Анна"])
        olga = await s.get(factories.Employee, people["Ольга"])
        chats = {"Анна": anna.telegram_id, "Борис": boris.telegram_id, "Ольга": olga.telegram_id}
    await sign_in(web, "admin", "good horse 1")
    plan = await (
        await web.get("/admin/deals/reassign", params={"scope": "all", "to": people["Борис"]})
    ).text()
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan))
    op_path = (await web.post("/admin/deals/reassign", data=form, allow_redirects=False)).headers[
        "Location"
    ]
    op_id = op_path.rsplit("/", 1)[1]
    await drain(container)
    texts = {name: [m["text"] for m in fake_tg.sent_messages(chat)] for name, chat in chats.items()}
    assert texts["Борис"] == [f"📦 You have been given 3 deals by Админ (bulk change #{op_id})."]
    by = f"Изменил(а): Админ (массовое изменение №{op_id})."
    assert texts["Анна"] == [f"📦 Из ваших передано сотруднику Борис: 2 сделки. {by}"]
    assert texts["Ольга"] == [f"📦 Из ваших передано сотруднику Борис: 1 сделка. {by}"]
    token = await page_token(web, op_path)
    await web.post(op_path + "/undo", data={"csrf_token": token}, allow_redirects=False)
    await drain(container)
    assert fake_tg.sent_messages(chats["Борис"])[-1]["text"] == (
        f"↩️ Taken back from you: 3 deals (bulk change #{op_id} undone by Админ)."
    )
    assert fake_tg.sent_messages(chats["Анна"])[-1]["text"] == (
        f"↩️ Вам вернули: 2 сделки (отмена массового изменения №{op_id}, Админ)."
    )


async def test_a_seller_s_clients_go_to_a_colleague_with_their_deals(web, container, clock):
    people, deals = await _office(container, clock)
    await sign_in(web, "admin", "good horse 1")
    listed = await (await web.get("/admin/clients", params={"owner": people["Анна"]})).text()
    assert len(re.findall(r'<tr data-client="(\d+)">', listed)) == 3
    query = [("owner", people["Анна"]), ("scope", "all"), ("to", people["Борис"])]
    plan = await (
        await web.get("/admin/clients/reassign", params=[*query, ("carry", "deal")])
    ).text()
    assert "Передать 3 клиентов → Борис." in plan
    assert "Вместе с ними: 2 сделки." in plan  # the won one stays Анна's
    form = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan)
    applied = await web.post("/admin/clients/reassign", data=form, allow_redirects=False)
    assert applied.status == 302
    page = await (await web.get(applied.headers["Location"])).text()
    assert "Админ: 3 клиента и 2 сделки → Борис." in page
    owners = await _owners(container)
    assert owners[deals["a1"]] == owners[deals["a2"]] == people["Борис"]
    assert owners[deals["a3"]] == people["Анна"]
    async with container.db.unit_of_work() as s:
        moved = await s.scalars(
            sa.select(Client.owner_id).where(Client.owner_id == people["Борис"])
        )
        assert len(list(moved)) == 3


async def test_ticked_deals_are_lost_in_bulk_with_a_reason_and_reopened_by_undo(
    web, container, clock
):
    _people, deals = await _office(container, clock)
    await sign_in(web, "admin", "good horse 1")
    async with container.db.unit_of_work() as s:
        lost = await s.scalar(
            sa.select(PipelineStage.id).where(PipelineStage.name == "Не реализовано")
        )
    ticked = [("id", deals["a1"]), ("id", deals["a2"]), ("to_stage", lost)]
    nothing = await web.get("/admin/deals/move", params=[("id", deals["a1"])])
    assert nothing.status == 422 and "Выберите этап" in await nothing.text()
    plan = await (await web.get("/admin/deals/move", params=[*ticked, ("reason", "price")])).text()
    assert "Перевести 2 сделки на этап «Не реализовано»." in plan
    assert "Причина: Дорого." in plan
    form = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan)
    applied = await web.post("/admin/deals/move", data=form, allow_redirects=False)
    assert applied.status == 302
    page = await (await web.get(applied.headers["Location"])).text()
    assert "Админ: 2 сделки → этап «Не реализовано»." in page
    async with container.db.unit_of_work() as s:
        statuses = dict((await s.execute(sa.select(Deal.id, Deal.status))).all())
    assert statuses[deals["a1"]] == statuses[deals["a2"]] == DealStatus.LOST
    token = await page_token(web, applied.headers["Location"])
    await web.post(applied.headers["Location"] + "/undo", data={"csrf_token": token})
    async with container.db.unit_of_work() as s:
        statuses = dict((await s.execute(sa.select(Deal.id, Deal.status))).all())
    assert statuses[deals["a1"]] == statuses[deals["a2"]] == DealStatus.OPEN


async def test_a_task_for_each_ticked_deal_reaches_its_owner_once(web, container, clock, fake_tg):
    people, deals = await _office(container, clock)
    await sign_in(web, "admin", "good horse 1")
    ticked = [("id", deals["a1"]), ("id", deals["a2"]), ("title", "Перезвонить")]
    past = await web.get("/admin/deals/tasks", params=[*ticked, ("due", "2025-11-30T10:00")])
    assert past.status == 200  # counting is fine; writing a task in the past is not
    plan = await (
        await web.get("/admin/deals/tasks", params=[*ticked, ("due", "2025-12-05T15:00")])
    ).text()
    assert "Поставить 2 задачи «Перезвонить», срок" in plan
    form = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan)
    applied = await web.post("/admin/deals/tasks", data=form, allow_redirects=False)
    assert applied.status == 302
    page = await (await web.get(applied.headers["Location"])).text()
    assert "Админ: 2 задачи «Перезвонить»." in page
    await drain(container)
    async with container.db.unit_of_work() as s:
        anna = await s.get(factories.Employee, people["Анна"])
        chat = anna.telegram_id
    [told] = [m["text"] for m in fake_tg.sent_messages(chat)]
    assert told.startswith("📝 Админ поставил(а) вам задачи «Перезвонить» со сроком")
    assert told.endswith(": 2 задачи (массовое изменение №1).")
    form = [(k, "2025-11-30T10:00:00" if k == "due" else v) for k, v in form]
    late = await web.post("/admin/deals/tasks", data=form, allow_redirects=False)
    assert late.status == 422


async def test_overdue_tasks_are_listed_and_given_to_someone_else(web, container, clock):
    from datetime import timedelta

    from models import Task

    people, _deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        for i, hours in enumerate((-5, -1, 3)):
            s.add(
                Task(
                    title=f"Позвонить {i}",
                    assignee_id=people["Анна"],
                    due_at=clock.now() + timedelta(hours=hours),
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
    await sign_in(web, "admin", "good horse 1")
    page = await (await web.get("/admin/tasks", params={"overdue": "1"})).text()
    overdue = re.findall(r'<tr data-task="(\d+)">', page)
    assert len(overdue) == 2 and page.count("просрочена</span>") == 2
    query = {"overdue": "1", "scope": "all", "to": people["Борис"]}
    plan = await (await web.get("/admin/tasks/reassign", params=query)).text()
    assert "Передать 2 задачи → Борис." in plan
    form = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan)
    applied = await web.post("/admin/tasks/reassign", data=form, allow_redirects=False)
    assert applied.status == 302
    mine = await (await web.get("/admin/tasks", params={"assignee": people["Борис"]})).text()
    assert sorted(re.findall(r'<tr data-task="(\d+)">', mine)) == sorted(overdue)
    assert (await web.get("/admin/tasks/tasks")).status == 404  # no "task for each task"


async def test_a_deal_s_and_a_client_s_pages_and_what_a_manager_of_another_office_sees(
    web, aiohttp_client, container, clock
):
    from models import Channel, ChannelIdentity, ClientTag

    _people, deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        deal = await s.get(Deal, deals["a1"])
        client_id = deal.client_id
        s.add(ChannelIdentity(client_id=client_id, channel=Channel.PHONE, address="+79120001122"))
        s.add(ClientTag(client_id=client_id, tag="vip"))
        other = (await s.get(Deal, deals["o1"])).client_id
    await sign_in(web, "admin", "good horse 1")
    page = await (await web.get(f"/admin/deals/{deals['a1']}")).text()
    assert "<h1>Окна в дом</h1>" in page and f'href="/admin/clients/{client_id}"' in page
    assert "Анна" in page and "Центр" in page
    page = await (await web.get(f"/admin/clients/{client_id}")).text()
    assert "+7 912 000-11-22" in page and "vip" in page
    assert "Окна в дом" in page  # the deal, in the client's timeline
    manager = await aiohttp_client(web.server.app)
    await sign_in(manager, "petr", "good horse 1")
    assert (await manager.get(f"/admin/clients/{client_id}")).status == 200
    assert (await manager.get(f"/admin/clients/{other}")).status == 404
    assert (await manager.get(f"/admin/deals/{deals['o1']}")).status == 404
    assert (await web.get("/admin/deals/999999")).status == 404


async def test_the_call_and_ticket_lists_filter_and_keep_a_manager_to_their_office(
    web, aiohttp_client, container, clock
):
    from models import Call, CallStatus, Direction, Ticket

    people, _deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        for i, (who, status) in enumerate(
            [
                ("Анна", CallStatus.MISSED),
                ("Анна", CallStatus.ANSWERED),
                ("Ольга", CallStatus.MISSED),
            ]
        ):
            s.add(
                Call(
                    provider="generic",
                    external_id=f"c{i}",
                    direction=Direction.IN,
                    status=status,
                    employee_id=people[who],
                    client_number=f"+7912000112{i}",
                    started_at=clock.now(),
                )
            )
        s.add(Ticket(author_id=people["Анна"], category="Оплата", subject="Не проходит платёж"))
        s.add(Ticket(author_id=people["Ольга"], category="Доступ", subject="Сбросить пароль"))
    await sign_in(web, "admin", "good horse 1")
    missed = await (await web.get("/admin/calls", params={"status": "missed"})).text()
    assert missed.count("<tr data-call=") == 2 and "Пропущен" in missed
    by_number = await (await web.get("/admin/calls", params={"q": "1121"})).text()
    assert by_number.count("<tr data-call=") == 1 and "+7 912 000-11-21" in by_number
    found = await (await web.get("/admin/tickets", params={"q": "ПЛАТЁЖ"})).text()
    assert found.count("<tr data-ticket=") == 1 and "Не проходит платёж" in found
    exported = await (await web.get("/admin/tickets/export")).read()
    assert "Сбросить пароль".encode() in exported
    manager = await aiohttp_client(web.server.app)
    await sign_in(manager, "petr", "good horse 1")
    calls = await (await manager.get("/admin/calls")).text()
    assert calls.count("<tr data-call=") == 2  # Центр's: Анна's two
    tickets = await (await manager.get("/admin/tickets")).text()
    assert "Сбросить пароль" not in tickets and "Не проходит платёж" in tickets
    assert (await web.get("/admin/calls/reassign")).status == 404  # read-only lists
