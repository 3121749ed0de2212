"""Any filtered list as CSV or XLSX: every matching row (not just the page), the page's
columns in the reader's language, numbers and dates typed in XLSX, formulas never run, a
manager's office only, and each export in the audit log."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from openpyxl import load_workbook

from models import AuditEntry
from tests import factories
from tests.admin_web.forms import sign_in
from tests.admin_web.test_bulk_reassign import _deal, _office


async def test_deals_matching_the_filter_come_out_whole_as_csv_and_xlsx(web, container, clock):
    people, _deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        anna = await s.get(factories.Employee, people["Анна"])
        for i in range(1200):  # more than one batch of a thousand
            await _deal(s, anna, f"Пакет {i}", amount=1000 + i)
        await _deal(s, anna, '=HYPERLINK("http://evil")', amount=5)
    await sign_in(web, "admin", "good horse 1")

    response = await web.get("/admin/deals/export", params={"owner": people["Анна"]})
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="deals-')
    raw = await response.read()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "№",
        "Сделка",
        "Клиент",
        "Этап",
        "Статус",
        "Сумма",
        "Валюта",
        "Ответственный",
        "Офис",
        "Получен",
    ]
    assert len(rows) == 1 + 1200 + 3 + 1  # Анна's three from _office, the batch, the formula
    assert ['\'=HYPERLINK("http://evil")', "5,00"] == [rows[1][1], rows[1][5]]

    response = await web.get(
        "/admin/deals/export", params={"q": "пакет 11", "sort": "amount", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(await response.read())).active
    values = list(sheet.values)
    assert values[0][1] == "Сделка" and len(values) == 1 + 111  # "Пакет 11", "Пакет 110…1199"
    assert values[1][1] == "Пакет 1199" and values[1][5] == 2199.0  # typed, largest first
    async with container.db.unit_of_work() as s:
        logged = (
            (await s.execute(sa.select(AuditEntry.data).where(AuditEntry.action == "export.deals")))
            .scalars()
            .all()
        )
    assert sorted(d["count"] for d in logged) == [111, 1204]


async def test_a_manager_exports_their_office_only_and_an_xlsx_keeps_text_as_text(
    web, container, clock
):
    people, deals = await _office(container, clock)
    async with container.db.unit_of_work() as s:
        anna = await s.get(factories.Employee, people["Анна"])
        await _deal(s, anna, "=1+1")
    await sign_in(web, "petr", "good horse 1")
    response = await web.get("/admin/deals/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(await response.read())).active
    ids = [row[0] for row in list(sheet.values)[1:]]
    assert deals["o1"] not in ids and deals["a1"] in ids
    formula = [row for row in sheet.iter_rows(min_row=2) if row[1].value == "=1+1"]
    assert formula and formula[0][1].data_type == "s"
    clients = await web.get("/admin/clients/export")
    assert clients.status == 200 and "Клиент Окна на дачу" not in (await clients.read()).decode()
