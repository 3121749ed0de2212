"""One employee's page in the admin web (admins only): details, a weekly schedule with
several shifts a day, phone lines named as sources, monthly plans; each change audited as
the admin's; refusals write nothing."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import AuditEntry, Employee, Office, PhoneLine, Role, SalesPlan
from services import admins, schedules
from tests import factories
from tests.admin_web.forms import page_token, sign_in


async def _people(container, clock):
    async with container.db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        boris = await factories.employee(s, clock, name="Борис", office="Центр")
        boris.extension = "102"
        for who, login in ((admin, "admin"), (boss, "petr")):
            await admins.give_login(
                s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
            )
        return admin.id, anna.id


async def _post(web, path: str, **data: str):
    token = await page_token(web, "/admin/settings/people")
    return await web.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


async def _week(container, employee_id: int) -> list[str]:
    async with container.db.unit_of_work() as s:
        return [str(shift) for shift in await schedules.show(s, employee_id)]


async def test_an_admin_edits_details_week_lines_and_plans(web, container, clock):
    admin_id, anna = await _people(container, clock)
    await sign_in(web, "admin", "good horse 1")
    roster = await (await web.get("/admin/settings/people")).text()
    assert f'href="/admin/settings/people/{anna}">Анна</a>' in roster
    path = f"/admin/settings/people/{anna}"
    page = await (await web.get(path)).text()
    assert "<h1>Анна</h1>" in page and 'value="Центр"' in page

    saved = await _post(
        web,
        path,
        name="Анна Смирнова",
        role="manager",
        office="Север",
        phone="8 912 000-11-22",
        extension="101",
    )
    assert saved.status == 302 and saved.headers["Location"] == f"{path}?saved=details"
    async with container.db.unit_of_work() as s:
        person = await s.get(Employee, anna)
        office = await s.get(Office, person.office_id)
        assert (person.name, person.role, office.name) == ("Анна Смирнова", Role.MANAGER, "Север")
        assert (person.phone, person.extension) == ("+79120001122", "101")

    # Two shifts on Monday (a lunch break), one on Saturday, one through the night on Friday.
    week = await _post(
        web,
        f"{path}/week",
        day_0="09:00-13:00, 14:00-18:00",
        day_4="22:00-06:00",
        day_5="10:00-14:00",
    )
    assert week.status == 302
    assert await _week(container, anna) == [
        "mon 09:00-13:00",
        "mon 14:00-18:00",
        "fri 22:00-06:00",
        "sat 10:00-14:00",
    ]
    page = await (await web.get(week.headers["Location"])).text()
    assert 'value="09:00-13:00, 14:00-18:00"' in page and "Сохранено" in page

    line = await _post(
        web, f"{path}/lines", number="+7 (495) 120-00-00", name="Авито", source="avito"
    )
    assert line.status == 302
    plan = await _post(web, f"{path}/plans", month="2026-12", amount="1 500 000,50")
    assert plan.status == 302
    page = await (await web.get(path)).text()
    assert "+74951200000 — Авито (avito)" in page
    assert re.search(r'data-month="2026-12"><td>12.2026</td><td>1 500 000.50</td>', page)
    async with container.db.unit_of_work() as s:
        [found] = (await s.execute(sa.select(PhoneLine))).scalars().all()
        assert (found.employee_id, found.source) == (anna, "avito")
        [amount] = (await s.execute(sa.select(SalesPlan.amount))).scalars().all()
        assert amount == Decimal("1500000.50")
        actions = (
            await s.execute(
                sa.select(AuditEntry.action, AuditEntry.actor_id).where(
                    AuditEntry.entity_type.in_(("employee", "line"))
                )
            )
        ).all()
    mine = {action for action, actor in actions if actor == admin_id}
    assert {"employee.edited", "employee.schedule_set", "line.added", "plan.set"} <= mine

    # An empty week: no schedule (on duty whenever their shift is on).
    assert (await _post(web, f"{path}/week")).status == 302
    assert await _week(container, anna) == []


async def test_refusals_change_nothing(web, aiohttp_client, container, clock):
    admin_id, anna = await _people(container, clock)
    await sign_in(web, "admin", "good horse 1")
    path = f"/admin/settings/people/{anna}"
    assert (await _post(web, f"{path}/week", day_0="09:00-18:00")).status == 302
    for fields, status, says in (
        ({"day_0": "9 to 6"}, 422, "не «9 to 6»"),
        ({"day_0": "09:00-25:00"}, 422, "09:00-25:00"),
        ({"day_0": "09:00-12:00, 09:00-13:00"}, 422, "Смена пишется"),
    ):
        response = await _post(web, f"{path}/week", **fields)
        assert response.status == status and says in await response.text(), fields
    assert await _week(container, anna) == ["mon 09:00-18:00"]
    details = {"name": "Анна", "role": "employee", "office": "Центр"}
    for fields, status, says in (
        ({"extension": "12a"}, 422, "от 1 до 10 цифр"),
        ({"extension": "102"}, 409, "уже у другого сотрудника"),
        ({"phone": "12345"}, 422, "не номер телефона"),
        ({"name": "   "}, 422, "должно быть имя"),
        ({"role": "king"}, 422, "role"),
    ):
        response = await _post(web, path, **{**details, **fields})
        assert response.status == status and says in await response.text(), fields
    own = await _post(web, f"/admin/settings/people/{admin_id}", name="Админ", role="employee")
    assert own.status == 403 and "Свою роль админа" in await own.text()
    bad = await _post(web, f"{path}/plans", month="2026-13", amount="100")
    assert bad.status == 422
    bad = await _post(web, f"{path}/plans", month="2026-12", amount="сто")
    assert bad.status == 422
    await _post(web, f"{path}/lines", number="+74951200000", name="Авито")
    taken = await _post(web, f"{path}/lines", number="8 495 120-00-00", name="Ещё")
    assert taken.status == 409 and "+74951200000" in await taken.text()
    # No token; a manager; nobody signed in; someone who is not there.
    forged = await web.post(f"{path}/week", data={"day_0": "10:00-11:00"})
    assert forged.status == 403
    assert (await web.get("/admin/settings/people/999999")).status == 404
    stranger = await aiohttp_client(web.server.app)
    assert (await stranger.get(path, allow_redirects=False)).status == 302
    await web.post("/admin/logout", data={"csrf_token": await page_token(web, path)})
    await sign_in(web, "petr", "good horse 1")
    assert (await web.get(path)).status == 404
    token = await page_token(web, "/admin/password")
    response = await web.post(f"{path}/week", data={"csrf_token": token, "day_0": "10:00-11:00"})
    assert response.status == 404
    async with container.db.unit_of_work() as s:
        person = await s.get(Employee, anna)
        assert (person.name, person.role, person.extension, person.phone) == (
            "Анна",
            Role.EMPLOYEE,
            None,
            None,
        )
        assert (await s.execute(sa.select(sa.func.count()).select_from(SalesPlan))).scalar() == 0
        assert (await s.execute(sa.select(sa.func.count()).select_from(PhoneLine))).scalar() == 1
    assert await _week(container, anna) == ["mon 09:00-18:00"]


def test_a_day_s_shifts_are_read_as_typed() -> None:
    assert schedules.parse_ranges(2, "9-18") == [schedules.ShiftRow(2, time(9), time(18))]
    assert schedules.parse_ranges(2, " 08:00–12:00 ; 13:00-24:00 ") == [
        schedules.ShiftRow(2, time(8), time(12)),
        schedules.ShiftRow(2, time(13), time(0)),
    ]
    assert schedules.parse_ranges(6, "") == []


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "day_0",
                "day_3",
                "day_6",
                "name",
                "role",
                "office",
                "phone",
                "extension",
                "month",
                "amount",
                "number",
                "source",
            ]
        ),
        st.one_of(
            st.text(max_size=250), st.sampled_from(["24:00", "00:00-00:00", "-", ",", "1e9"])
        ),
        max_size=5,
    ),
    where=st.sampled_from(["", "/week", "/plans", "/lines"]),
)
async def test_hostile_forms_get_a_page_never_a_5xx(web, container, clock, fields, where):
    if not getattr(web, "anna", None):
        _, web.anna = await _people(container, clock)
        await sign_in(web, "admin", "good horse 1")
        web.token = await page_token(web, "/admin/settings/people")
    clean = {k: v.replace("\x00", "") for k, v in fields.items()}
    response = await web.post(
        f"/admin/settings/people/{web.anna}{where}",
        data={"csrf_token": web.token, **clean},
        allow_redirects=False,
    )
    assert response.status in (302, 403, 404, 409, 422), (response.status, clean)
