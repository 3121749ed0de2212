"""The audit log and the sign-in log as an admin reads them: filters, pages by key; a manager
does not see them."""

from __future__ import annotations

import re

from models import Role
from services import admins, audit
from tests import factories
from tests.admin_web.forms import sign_in

ROW = re.compile(r'<tr data-entry="(\d+)">')
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


async def test_the_sign_in_log_shows_attempts_with_login_and_address(web, container, clock):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    await sign_in(web, "boss", "wrong horse")
    await sign_in(web, "stranger", "anything at all")
    await sign_in(web, "boss", "correct horse")
    page = await (await web.get("/admin/security")).text()
    assert len(ROW.findall(page)) == 3
    assert "web.login_failed" in page and "stranger" in page and "127.0.0.1" in page
    only = await (await web.get("/admin/security?login=stranger")).text()
    assert len(ROW.findall(only)) == 1 and "boss" not in only.split("<tbody>")[1]


async def test_the_audit_log_filters_and_pages_by_key(web, container, clock):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        for i in range(60):
            await audit.log(
                s, action="plan.set", entity_type="employee", entity_id=i, at=clock.now(), n=i
            )
    await sign_in(web, "boss", "correct horse")
    page = await (await web.get("/admin/audit?action=plan.")).text()
    first = [int(i) for i in ROW.findall(page)]
    assert len(first) == 50 and "n: 59" in page
    follow = NEXT.search(page).group(1).replace("&amp;", "&")
    second = [int(i) for i in ROW.findall(await (await web.get(follow)).text())]
    assert len(second) == 10 and not set(first) & set(second)
    assert max(second) < min(first)
    everything = await (await web.get("/admin/audit")).text()
    assert len(ROW.findall(everything)) == 50 and NEXT.search(everything)  # 62 in all


async def test_a_manager_has_no_audit_pages(web, container, clock):
    async with container.db.unit_of_work() as s:
        petr = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        await admins.give_login(
            s, employee_id=petr.id, login="petr", password="manager horse", now=clock.now()
        )
    await sign_in(web, "petr", "manager horse")
    for path in ("/admin/audit", "/admin/security"):
        response = await web.get(path)
        assert response.status == 404 and "Такой страницы нет" in await response.text()
    assert "Журнал" not in await (await web.get("/admin/")).text()  # nor links to them
