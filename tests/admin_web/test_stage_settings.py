"""Pipeline stages edited in the admin web: renamed (every list shows the new name), added
before won and lost, moved among the open ones; won and lost stay last; admins only."""

from __future__ import annotations

import re

import sqlalchemy as sa

from models import PipelineStage, Role
from services import admins
from tests import factories
from tests.admin_web.forms import page_token, sign_in


async def _admins(container, clock):
    async with container.db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        for who, login in ((admin, "admin"), (boss, "petr")):
            await admins.give_login(
                s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
            )


async def _names(container) -> list[str]:
    async with container.db.unit_of_work() as s:
        return list(
            await s.scalars(
                sa.select(PipelineStage.name)
                .where(PipelineStage.pipeline_id == 1)
                .order_by(PipelineStage.position)
            )
        )


async def _stage(container, name: str) -> int:
    async with container.db.unit_of_work() as s:
        return await s.scalar(sa.select(PipelineStage.id).where(PipelineStage.name == name))


async def test_stages_are_renamed_added_and_moved_and_won_and_lost_stay_last(
    web, aiohttp_client, container, clock
):
    await _admins(container, clock)
    await sign_in(web, "admin", "good horse 1")
    page = await (await web.get("/admin/settings/stages")).text()
    assert page.count("<tr data-stage=") == 7
    token = await page_token(web, "/admin/settings/stages")

    async def post(path: str, **data: str):
        return await web.post(path, data={"csrf_token": token, **data}, allow_redirects=False)

    talks = await _stage(container, "Переговоры")
    assert (
        await post(f"/admin/settings/stages/{talks}/rename", name="  Обсуждение  ")
    ).status == 302
    assert (await post("/admin/settings/pipelines/1/stages", name="Замер")).status == 302
    measure = await _stage(container, "Замер")
    assert (await post(f"/admin/settings/stages/{measure}/move", direction="up")).status == 302
    assert await _names(container) == [
        "Неразобранное",
        "Первичный контакт",
        "Обсуждение",
        "Принимают решение",
        "Замер",
        "Согласование договора",
        "Успешно реализовано",
        "Не реализовано",
    ]
    won = await _stage(container, "Успешно реализовано")
    fixed = await post(f"/admin/settings/stages/{won}/move", direction="up")
    assert fixed.status == 409 and "всегда последние" in await fixed.text()
    taken = await post("/admin/settings/pipelines/1/stages", name="замер")
    assert taken.status == 409
    empty = await post(f"/admin/settings/stages/{talks}/rename", name="   ")
    assert empty.status == 422
    forged = await web.post(f"/admin/settings/stages/{talks}/rename", data={"name": "X"})
    assert forged.status == 403
    manager = await aiohttp_client(web.server.app)
    await sign_in(manager, "petr", "good horse 1")
    assert (await manager.get("/admin/settings/stages")).status == 404
    deals = await (await web.get("/admin/deals")).text()
    assert re.search(r"Продажи: Обсуждение", deals)  # the lists show the new name


async def test_an_admin_adds_people_with_an_invite_and_blocks_them_but_not_themselves(
    web, aiohttp_client, container, clock
):
    await _admins(container, clock)
    await sign_in(web, "admin", "good horse 1")
    token = await page_token(web, "/admin/settings/people")
    added = await web.post(
        "/admin/settings/people",
        data={"csrf_token": token, "name": "  Вера  ", "role": "manager", "office": "Север"},
        allow_redirects=False,
    )
    assert added.status == 302
    page = await (await web.get(added.headers["Location"])).text()
    row = re.search(r'<tr data-person="(\d+)" class="added">(.*?)</tr>', page, re.S)
    assert (
        row
        and "Вера" in row.group(2)
        and "Руководитель" in row.group(2)
        and "Север" in row.group(2)
    )
    assert re.search(r'<code class="invite">(/start \S+|https://t.me/\S+)</code>', row.group(2))
    vera = int(row.group(1))
    first_invite = re.search(r'<code class="invite">([^<]+)</code>', row.group(2)).group(1)
    again = await web.post(
        f"/admin/settings/people/{vera}/invite", data={"csrf_token": token}, allow_redirects=False
    )
    assert again.status == 302
    page = await (await web.get(again.headers["Location"])).text()
    fresh = re.search(
        rf'<tr data-person="{vera}" class="added">.*?<code class="invite">([^<]+)', page, re.S
    )
    assert fresh and fresh.group(1) != first_invite  # the old code no longer works
    blocked = await web.post(
        f"/admin/settings/people/{vera}/active", data={"csrf_token": token}, allow_redirects=False
    )
    assert blocked.status == 302
    async with container.db.unit_of_work() as s:
        assert (await s.get(factories.Employee, vera)).is_active is False
    async with container.db.unit_of_work() as s:
        me = await s.scalar(
            sa.select(factories.Employee.id).where(factories.Employee.login == "admin")
        )
    myself = await web.post(f"/admin/settings/people/{me}/active", data={"csrf_token": token})
    assert myself.status == 409 and "Себя заблокировать нельзя" in await myself.text()
    nameless = await web.post("/admin/settings/people", data={"csrf_token": token, "name": " "})
    assert nameless.status == 422
    manager = await aiohttp_client(web.server.app)
    await sign_in(manager, "petr", "good horse 1")
    assert (await manager.get("/admin/settings/people")).status == 404
    manager_token = await page_token(manager, "/admin/deals")
    refused = await manager.post(
        "/admin/settings/people", data={"csrf_token": manager_token, "name": "Кто-то"}
    )
    assert refused.status in (403, 404)  # refused, as if there were no such page
    async with container.db.unit_of_work() as s:
        nobody = sa.select(factories.Employee).where(factories.Employee.name == "Кто-то")
        assert (await s.scalar(nobody)) is None
