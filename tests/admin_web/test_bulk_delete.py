"""Deleting deals from the admin web's deal list: counted with what goes along, deleted in one
transaction, told in Telegram, undone from the operation's page; admins only."""

from __future__ import annotations

import re

import sqlalchemy as sa

from models import Employee, Task
from tests.admin_web.forms import page_token, sign_in
from tests.admin_web.test_bulk_reassign import _DEAL_ROW, _office
from tests.chat import drain

_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


async def test_ticked_deals_are_deleted_told_and_brought_back(web, container, clock, fake_tg):
    people, deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        s.add(Task(title="Перезвонить", deal_id=deals["a1"], assignee_id=people["Анна"]))
        anna_chat = await s.scalar(
            sa.select(Employee.telegram_id).where(Employee.id == people["Анна"])
        )
    await sign_in(web, "admin", "good horse 1")
    listing = await (await web.get("/admin/deals")).text()
    assert "Посчитать удаление" in listing
    ticked = [("id", deals["a1"]), ("id", deals["a3"])]
    plan = await (await web.get("/admin/deals/delete", params=ticked)).text()
    assert "Удалить 2 сделки." in plan and "Вместе с ними: 1 задача." in plan
    applied = await web.post(
        "/admin/deals/delete", data=_HIDDEN.findall(plan), allow_redirects=False
    )
    assert applied.status == 302
    op_path = applied.headers["Location"]
    page = await (await web.get(op_path)).text()
    assert "Админ: удалено — 2 сделки и 1 задача." in page and "Отменить" in page
    left = _DEAL_ROW.findall(await (await web.get("/admin/deals")).text())
    assert sorted(map(int, left)) == sorted([deals["a2"], deals["o1"]])
    await drain(container)
    assert [m["text"] for m in fake_tg.sent_messages(anna_chat)] == [
        "🗑 Админ удалил(а) ваше: 2 сделки и 1 задача (массовое изменение №1)."
    ]

    token = await page_token(web, op_path)
    await web.post(f"{op_path}/undo", data={"csrf_token": token})
    back = _DEAL_ROW.findall(await (await web.get("/admin/deals")).text())
    assert sorted(map(int, back)) == sorted(deals.values())
    await drain(container)
    assert fake_tg.sent_messages(anna_chat)[-1]["text"] == (
        "↩️ Восстановлено ваше: 2 сделки и 1 задача (отмена массового изменения №1, Админ)."
    )


async def test_only_an_admin_deletes_and_a_forged_form_deletes_nothing(web, container, clock):
    _people, deals = await _office(container, clock)
    await sign_in(web, "petr", "good horse 1")  # a manager
    listing = await (await web.get("/admin/deals")).text()
    assert "Посчитать удаление" not in listing
    assert (await web.get("/admin/deals/delete", params={"scope": "all"})).status == 403
    token = await page_token(web, "/admin/deals")
    form = {"scope": "all", "expected": "3", "csrf_token": token}
    assert (await web.post("/admin/deals/delete", data=form)).status == 403
    await web.post("/admin/logout", data={"csrf_token": token})
    await sign_in(web, "admin", "good horse 1")
    no_token = {"scope": "all", "expected": "4"}
    assert (await web.post("/admin/deals/delete", data=no_token)).status == 403
    token = await page_token(web, "/admin/deals")
    stale = await web.post(
        "/admin/deals/delete", data={**no_token, "expected": "3", "csrf_token": token}
    )
    assert stale.status == 409
    nothing = await web.get("/admin/deals/delete", params={"scope": "selected"})
    assert nothing.status == 422  # nothing ticked
    left = _DEAL_ROW.findall(await (await web.get("/admin/deals")).text())
    assert len(left) == len(deals)


async def test_tasks_are_deleted_from_the_task_list_and_brought_back(web, container, clock):
    people, deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        made = [
            Task(title=f"Перезвонить {i}", deal_id=deals["a1"], assignee_id=people["Анна"])
            for i in range(3)
        ]
        s.add_all(made)
        await s.flush()
        ids = [t.id for t in made]
    await sign_in(web, "admin", "good horse 1")
    listing = await (await web.get("/admin/tasks")).text()
    assert 'formaction="/admin/tasks/delete"' in listing
    ticked = [("id", ids[0]), ("id", ids[1])]
    plan = await (await web.get("/admin/tasks/delete", params=ticked)).text()
    assert "Удаление задач" in plan and "Удалить 2 задачи." in plan
    applied = await web.post(
        "/admin/tasks/delete", data=_HIDDEN.findall(plan), allow_redirects=False
    )
    op_path = applied.headers["Location"]
    assert "Админ: удалено — 2 задачи." in await (await web.get(op_path)).text()
    async with container.db.unit_of_work() as s:
        assert list(await s.scalars(sa.select(Task.id))) == [ids[2]]
    token = await page_token(web, op_path)
    await web.post(f"{op_path}/undo", data={"csrf_token": token})
    async with container.db.unit_of_work() as s:
        assert sorted(await s.scalars(sa.select(Task.id))) == ids


async def test_a_client_is_deleted_with_everything_and_brought_back(web, container, clock):
    from models import Client, Lead
    from tests.client_history import client_with_history

    people, _deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        anna = await s.get(Employee, people["Анна"])
        junk = await client_with_history(s, name="Тест Тестович", office_id=None, owner=anna)
    await sign_in(web, "admin", "good horse 1")
    listing = await (await web.get("/admin/clients")).text()
    assert 'formaction="/admin/clients/delete"' in listing
    plan = await (await web.get("/admin/clients/delete", params=[("id", junk)])).text()
    assert "Удаление клиентов" in plan and "Удалить 1 клиента." in plan
    assert "1 лид" in plan and "1 обращение" in plan and "1 звонок" in plan
    applied = await web.post(
        "/admin/clients/delete", data=_HIDDEN.findall(plan), allow_redirects=False
    )
    op_path = applied.headers["Location"]
    assert "Админ: удалено — 1 клиент" in await (await web.get(op_path)).text()
    async with container.db.unit_of_work() as s:
        assert await s.get(Client, junk) is None
        assert await s.scalar(sa.select(Lead.id).where(Lead.client_id == junk)) is None
    assert (await web.get(f"/admin/clients/{junk}")).status == 404
    token = await page_token(web, op_path)
    await web.post(f"{op_path}/undo", data={"csrf_token": token})
    page = await web.get(f"/admin/clients/{junk}")
    assert page.status == 200 and "Тест Тестович" in await page.text()
