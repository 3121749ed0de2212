"""Managers sign in to the web panel and see their office only; anyone signed in changes their
own password there, and their other sign-ins end."""

from __future__ import annotations

import sqlalchemy as sa

from models import Role, WebSession
from services import admins
from tests import factories
from tests.admin_web.forms import page_token, sign_in
from tests.report_data import lead


async def _people(container, clock):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        olga = await factories.employee(s, clock, name="Ольга", office="Север")
        worker = await factories.employee(s, clock, name="Иван", office="Центр")
        await admins.give_login(
            s, employee_id=boss.id, login="petr", password="manager horse", now=clock.now()
        )
        await lead(s, clock.now(), who=anna)
        await lead(s, clock.now(), who=olga)
        await lead(s, clock.now(), who=olga, office=anna.office_id)  # Центр's, given to Ольга
    return boss, anna, olga, worker


async def test_a_manager_sees_the_leads_of_their_office_only(web, container, clock):
    await _people(container, clock)
    response = await sign_in(web, "petr", "manager horse")
    assert response.status == 302
    page = await (await web.get("/admin/")).text()
    assert page.count("</tr>") - 1 == 2  # Анна's and the one of Центр given to Ольга
    assert "<td>Анна</td>" in page and "<td>Ольга</td>" in page and "Пётр" in page


async def test_only_admins_and_managers_sign_in(web, container, clock):
    import pytest

    from services.errors import InvalidInput

    _boss, _anna, _olga, worker = await _people(container, clock)
    async with container.db.unit_of_work() as s:
        with pytest.raises(InvalidInput):
            await admins.give_login(
                s, employee_id=worker.id, login="ivan", password="worker horse", now=clock.now()
            )
    assert (await sign_in(web, "ivan", "worker horse")).status == 401


async def test_a_password_changed_ends_the_other_sign_ins(web, aiohttp_client, container, clock):
    await _people(container, clock)
    await sign_in(web, "petr", "manager horse")
    other = await aiohttp_client(web.server.app)  # the same person on another device
    await sign_in(other, "petr", "manager horse")

    async def change(current: str, new: str, repeated: str):
        token = await page_token(web, "/admin/password")
        data = {"csrf_token": token, "current": current, "new": new, "repeated": repeated}
        return await web.post("/admin/password", data=data)

    wrong = await change("not it", "new manager horse", "new manager horse")
    assert wrong.status == 403 and "Текущий пароль неверен" in await wrong.text()
    differ = await change("manager horse", "new manager horse", "new manager hose")
    assert differ.status == 422 and "не совпадают" in await differ.text()
    short = await change("manager horse", "short", "short")
    assert short.status == 422 and "не короче 8" in await short.text()
    done = await change("manager horse", "new manager horse", "new manager horse")
    assert done.status == 200 and "Других входов закрыто: 1" in await done.text()
    assert (await web.get("/admin/", allow_redirects=False)).status == 200  # this one stays
    assert (await other.get("/admin/", allow_redirects=False)).status == 302  # that one ended
    async with container.db.unit_of_work() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(WebSession)) == 1
        assert await admins.check_password(s, login="petr", password="new manager horse")
