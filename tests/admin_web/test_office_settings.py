"""Offices in the admin web (admins only): added, renamed, given a time zone, which moves
their people's schedules to it; refusals change nothing."""

from __future__ import annotations

import re

import sqlalchemy as sa

from models import AuditEntry, Office, Role
from services import admins, schedules
from tests import factories
from tests.admin_web.forms import page_token, sign_in


async def _setup(container, clock):
    async with container.db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Урал")
        # Monday 11:00-18:00 where she works: 10:00 in Moscow is 12:00 in Yekaterinburg.
        await schedules.replace(
            s, anna.id, schedules.parse_ranges(0, "11:00-18:00"), now=clock.now()
        )
        for who, login in ((admin, "admin"), (boss, "petr")):
            await admins.give_login(
                s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
            )
        ural = await s.scalar(sa.select(Office.id).where(Office.name == "Урал"))
        return admin.id, anna.id, ural


async def _post(web, path: str, **data: str):
    token = await page_token(web, "/admin/settings/offices")
    return await web.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


def _on_duty(roster: str, employee_id: int) -> bool:
    row = re.search(rf'<tr data-person="{employee_id}".*?</tr>', roster, re.S).group(0)
    return "<td>да</td>" in row


async def test_offices_are_added_renamed_and_their_zone_moves_their_people_s_hours(
    web, container, clock
):
    admin_id, anna, ural = await _setup(container, clock)
    await sign_in(web, "admin", "good horse 1")
    page = await (await web.get("/admin/settings/offices")).text()
    assert f'<tr data-office="{ural}">' in page and 'value="Урал"' in page
    # In the company's zone (Moscow) it is 10:00: before her shift.
    assert not _on_duty(await (await web.get("/admin/settings/people")).text(), anna)
    changed = await _post(
        web, f"/admin/settings/offices/{ural}", name="Екатеринбург", timezone="Asia/Yekaterinburg"
    )
    assert changed.status == 302
    assert _on_duty(await (await web.get("/admin/settings/people")).text(), anna)
    added = await _post(web, "/admin/settings/offices", name="Владивосток", timezone="")
    assert added.status == 302
    page = await (await web.get("/admin/settings/offices")).text()
    assert 'value="Екатеринбург"' in page and 'value="Asia/Yekaterinburg"' in page
    assert 'value="Владивосток"' in page
    async with container.db.unit_of_work() as s:
        logged = (
            (
                await s.execute(
                    sa.select(AuditEntry.action).where(
                        AuditEntry.entity_type == "office", AuditEntry.actor_id == admin_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(logged) == ["office.added", "office.changed"]


async def test_refusals_change_nothing(web, container, clock):
    _, _, ural = await _setup(container, clock)
    await sign_in(web, "admin", "good horse 1")
    path = f"/admin/settings/offices/{ural}"
    for fields, status, says in (
        ({"name": "Урал", "timezone": "Mars/Olympus"}, 422, "не часовой пояс"),
        ({"name": "Урал", "timezone": "../../etc/passwd"}, 422, "не часовой пояс"),
        ({"name": "   "}, 422, "должно быть название"),
        ({"name": "центр"}, 409, "уже есть"),
    ):
        response = await _post(web, path, **fields)
        assert response.status == status and says in await response.text(), fields
    assert (await _post(web, "/admin/settings/offices/999999", name="X")).status == 404
    assert (await web.post(path, data={"name": "Без токена"})).status == 403
    await web.post("/admin/logout", data={"csrf_token": await page_token(web, "/admin/password")})
    await sign_in(web, "petr", "good horse 1")
    assert (await web.get("/admin/settings/offices")).status == 404
    token = await page_token(web, "/admin/password")
    response = await web.post(path, data={"csrf_token": token, "name": "Чужой"})
    assert response.status == 404
    async with container.db.unit_of_work() as s:
        office = await s.get(Office, ural)
        assert (office.name, office.timezone) == ("Урал", None)
