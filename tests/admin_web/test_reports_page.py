"""The report page: a period picked on the page, per person and in total, by source and the
funnel; the plan chart as SVG; the table as CSV; a manager kept to their office."""

from __future__ import annotations

import sqlalchemy as sa

from models import AuditEntry, CallStatus, DealStatus, Direction, LeadStatus, Role
from services import admins
from tests import factories
from tests.admin_web.forms import sign_in
from tests.report_data import call, deal, lead, msk, staff


async def _data(container, clock):
    clock.set(msk(4, 12))
    async with container.db.unit_of_work() as s:
        anna, boris, olga = await staff(s, clock)
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        for who, login in ((admin, "admin"), (boss, "petr")):
            await admins.give_login(
                s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
            )
        await lead(s, msk(3, 10), who=anna, status=LeadStatus.TARGET, source="form:tilda")
        await deal(
            s, anna, created=msk(2, 10), amount=100000, status=DealStatus.WON, closed=msk(3, 11)
        )
        call(s, msk(3, 9), Direction.IN, CallStatus.MISSED, who=boris)
        await deal(s, olga, created=msk(2, 10), amount=5000)
        return olga.office_id


async def test_the_period_s_numbers_per_person_with_the_chart_and_the_export(web, container, clock):
    await _data(container, clock)
    await sign_in(web, "admin", "good horse 1")
    page = await (
        await web.get("/admin/reports", params={"since": "2026-12-01", "until": "2026-12-04"})
    ).text()
    assert page.count("<tr data-person=") == 3  # Анна, Борис, Ольга
    total = page[page.index('<tr class="total">') :]
    assert "100\u00a0000\u00a0₽" in total
    assert "form:tilda" in page and "Неразобранное" in page  # by source; the funnel
    picture = await web.get("/admin/reports/chart.svg", params={"preset": "month"})
    assert picture.status == 200 and picture.content_type == "image/svg+xml"
    assert b"<svg" in await picture.read()
    exported = (await (await web.get("/admin/reports/export")).read()).decode("utf-8-sig")
    assert "Анна" in exported and "Итого" in exported
    async with container.db.unit_of_work() as s:  # who took which numbers out
        entry = await s.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.reports"))
    assert entry is not None and (entry.data["count"], entry.data["format"]) == (3, "csv")
    wrong = await web.get("/admin/reports", params={"since": "2026-12-04", "until": "2026-12-01"})
    assert wrong.status == 422


async def test_a_manager_sees_their_office_s_numbers_only(web, container, clock):
    north = await _data(container, clock)
    await sign_in(web, "petr", "good horse 1")
    page = await (await web.get("/admin/reports", params={"preset": "month"})).text()
    assert "Анна" in page and "Ольга" not in page
    refused = await web.get("/admin/reports", params={"office": north})
    assert refused.status == 403


async def test_the_funnel_of_another_pipeline_is_a_link_away(web, container, clock):
    from tests.report_data import second_pipeline

    await _data(container, clock)
    async with container.db.unit_of_work() as s:
        service = await second_pipeline(s)
    await sign_in(web, "admin", "good horse 1")
    page = await (await web.get("/admin/reports")).text()
    assert f"pipeline={service}" in page and "Неразобранное" in page
    page = await (await web.get("/admin/reports", params={"pipeline": service})).text()
    assert "Воронка: Сервис" in page and "Выезд" in page
