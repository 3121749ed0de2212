"""The admin's lead list at size: filters, pages by key, and a lead's own page with the
client's history; a manager reaches nothing of another office's, even by URL."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from models import Client, Lead, LeadStatus, Role
from services import admins
from services.clients.matching import search_text_of
from tests import factories
from tests.admin_web.forms import sign_in
from tests.report_data import lead

ROW = re.compile(r'<tr data-lead="(\d+)">')
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


async def _leads(container, clock, count=120):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        olga = await factories.employee(s, clock, name="Ольга", office="Север")
        petr = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Север")
        await admins.give_login(
            s, employee_id=petr.id, login="petr", password="manager horse", now=clock.now()
        )
        for i in range(count):
            await lead(
                s,
                clock.now() - timedelta(days=i % 10),
                who=anna if i % 3 else olga,
                source="whatsapp" if i % 4 == 0 else "form:site",
                status=LeadStatus.TARGET if i % 5 == 0 else LeadStatus.NEW,
            )
        await s.flush()
        rows = (await s.execute(sa.select(Lead).order_by(Lead.id))).scalars().all()
        for i, row in enumerate(rows):
            row.name, row.phone = f"Иван {i}", f"+7912000{i:04d}"
        if len(rows) > 7:
            rows[7].name, rows[7].email = "Мария Кузнецова", "maria@example.com"
            client = await s.get(Client, rows[7].client_id)
            client.name, client.search_text = rows[7].name, search_text_of(rows[7].name)
    return anna, olga, petr


async def _pages(web, path):
    seen = []
    while path:
        page = await (await web.get(path)).text()
        seen.append([int(i) for i in ROW.findall(page)])
        found = NEXT.search(page)
        path = found.group(1).replace("&amp;", "&") if found else None
    return seen


async def test_pages_by_key_show_every_lead_once_newest_first(web, container, clock):
    await _leads(container, clock)
    await sign_in(web, "boss", "correct horse")
    pages = await _pages(web, "/admin/")
    assert [len(p) for p in pages] == [50, 50, 20]
    every = [i for p in pages for i in p]
    assert every == sorted(every, reverse=True) and len(set(every)) == 120
    whatsapp = await _pages(web, "/admin/?source=whatsapp&status=target")
    assert [len(p) for p in whatsapp] == [6]  # i % 20 == 0, kept across pages and filters


async def test_filters_by_words_and_dates(web, container, clock):
    await _leads(container, clock)
    await sign_in(web, "boss", "correct horse")
    found = await (await web.get("/admin/?q=КУЗНЁЦ")).text()  # case and ё aside
    assert ROW.findall(found) == ["8"] and "Мария Кузнецова" in found
    assert ROW.findall(await (await web.get("/admin/?q=maria@")).text()) == ["8"]
    assert ROW.findall(await (await web.get("/admin/?q=%25")).text()) == []  # % is a letter
    today = clock.now().astimezone(container.company.timezone).date()
    day = today - timedelta(days=3)
    those = await _pages(web, f"/admin/?since={day}&until={day}")
    assert sum(len(p) for p in those) == 12  # every tenth lead was made that day
    bad = await web.get("/admin/?since=31.11.2025")
    assert bad.status == 422


async def test_a_leads_page_and_what_a_manager_of_another_office_sees(web, container, clock):
    _anna, _olga, _petr = await _leads(container, clock, count=6)
    await sign_in(web, "boss", "correct horse")
    page = await web.get("/admin/leads/1")
    text = await page.text()
    assert page.status == 200 and "Лид №1" in text and "Иван 0" in text
    assert "История клиента" in text and "<td>лид</td>" in text  # the lead in its history
    assert (await web.get("/admin/leads/999")).status == 404
    web.session.cookie_jar.clear()
    await sign_in(web, "petr", "manager horse")
    listed = [int(i) for i in ROW.findall(await (await web.get("/admin/")).text())]
    assert listed == [4, 1]  # Ольга's: Север's leads only
    assert (await web.get("/admin/leads/4")).status == 200
    refused = await web.get("/admin/leads/2")  # Анна's, of Центр
    assert refused.status == 404 and "Такой страницы нет" in await refused.text()


async def test_oldest_first_by_assignee_and_office_and_the_whole_list_exported(
    web, container, clock
):
    anna, olga, _petr = await _leads(container, clock)
    await sign_in(web, "boss", "correct horse")
    oldest = await _pages(web, "/admin/?sort=old")
    every = [i for p in oldest for i in p]
    assert every == sorted(every) and len(every) == 120
    annas = await _pages(web, f"/admin/?assignee={anna.id}")
    assert sum(len(p) for p in annas) == 80  # i % 3 != 0
    north = await _pages(web, f"/admin/?office={olga.office_id}")
    assert sum(len(p) for p in north) == 40
    exported = await web.get("/admin/leads/export", params={"format": "csv"})
    lines = (await exported.read()).decode("utf-8-sig").strip().splitlines()
    assert lines[0].split(";")[:3] == ["№", "Получен", "Клиент"]
    assert len(lines) == 1 + 120  # every lead, not one page of them
    async with container.db.unit_of_work() as s:
        from models import AuditEntry

        entry = await s.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.leads"))
    assert entry is not None and entry.data["count"] == 120
