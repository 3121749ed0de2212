"""A bulk reassign in headless Chromium, as a manager of a window firm does it when a seller
leaves: filter the deals, give all of them to a colleague, look at the count, apply, undo."""

from __future__ import annotations

import re

from services import admins
from tests import factories
from tests.admin_web.forms import sign_in_page
from tests.admin_web.test_bulk_reassign import _deal
from webhooks.server import build_web_app


async def test_a_filtered_bulk_reassign_is_counted_applied_and_undone(
    browser, container, aiohttp_server, clock, shots
):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        await factories.employee(s, clock, name="Борис", office="Центр")
        for title in ("Окна в дом", "Окна на дачу", "Окна в офис", "Двери"):
            await _deal(s, anna, title)
    server = await aiohttp_server(build_web_app(container))
    site = f"http://127.0.0.1:{server.port}"

    page = await browser.new_page()
    await sign_in_page(page, site, "boss", "correct horse")
    await page.click("header >> text=Сделки")
    await page.fill("input[name=q]", "окна")
    await page.click("form.search >> text=Показать")
    assert await page.locator("tr[data-deal]").count() == 3

    await page.check("input[name=scope][value=all]")
    await page.select_option("form#bulk select[name=to]", label="Борис (Центр)")
    await page.click("form#bulk button[type=submit]")
    assert "Передать 3 сделки → Борис." in await page.text_content("main")
    await page.screenshot(path=str(shots / "admin-bulk-plan.png"), full_page=True)

    await page.click('button:text-is("Передать")')
    await page.wait_for_url(re.compile(r".*/admin/bulk/\d+$"))
    assert "3 сделки → Борис" in await page.text_content("p.done")
    await page.screenshot(path=str(shots / "admin-bulk-done.png"), full_page=True)
    operation = page.url

    await page.goto(f"{site}/admin/deals?q=окна")
    owners = await page.locator("tr[data-deal] td:nth-child(7)").all_text_contents()
    assert owners == ["Борис"] * 3

    await page.goto(operation)
    await page.click('button:text-is("Отменить")')
    assert "Вернулось: 3 сделки." in await page.text_content("p.undone")
    await page.goto(f"{site}/admin/deals")
    owners = await page.locator("tr[data-deal] td:nth-child(7)").all_text_contents()
    assert owners == ["Анна"] * 4


async def test_the_deal_and_client_lists_fit_a_phone(
    browser, container, aiohttp_server, clock, shots
):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        for i in range(5):
            await _deal(s, anna, f"Остекление балкона на {i + 3} этаже", amount=150000 + i)
    server = await aiohttp_server(build_web_app(container))
    site = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page(viewport={"width": 375, "height": 740})
    await sign_in_page(page, site, "boss", "correct horse")
    await page.goto(f"{site}/admin/deals")
    assert await page.locator("tr[data-deal]").count() == 5
    # the table scrolls inside its own box; the page itself never scrolls sideways
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-deals-phone.png"), full_page=True)
    await page.goto(f"{site}/admin/clients")
    assert await page.locator("tr[data-client]").count() == 5
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-clients-phone.png"), full_page=True)


async def test_an_import_is_checked_before_it_is_applied(
    browser, container, aiohttp_server, clock, shots, tmp_path
):
    from tests.services.test_imports import CSV

    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    server = await aiohttp_server(build_web_app(container))
    site = f"http://127.0.0.1:{server.port}"
    listing = tmp_path / "клиенты.csv"
    listing.write_bytes(CSV)

    page = await browser.new_page()
    await sign_in_page(page, site, "boss", "correct horse")
    await page.click("header >> text=Импорт клиентов")
    await page.set_input_files("input[type=file]", str(listing))
    await page.click('button:text-is("Загрузить")')
    await page.wait_for_url(re.compile(r".*/admin/imports/\d+$"))
    assert await page.input_value("select[name=col_1]") == "phone"  # "Телефон", recognised
    await page.check("input[name=matches][value=update]")
    await page.click('button:text-is("Проверить (ничего не записывая)")')
    assert "Новые: 4" in await page.text_content("ul.counts")
    assert "телефон не разобран: 12345" in await page.text_content("table.samples")
    await page.screenshot(path=str(shots / "admin-import-preview.png"), full_page=True)
    await page.click('button:text-is("Импортировать")')
    await page.wait_for_selector('[data-status="done"]', timeout=20_000)
    assert "Заведены: 4" in await page.text_content("ul.counts")
    await page.screenshot(path=str(shots / "admin-import-done.png"), full_page=True)


async def test_the_report_page_draws_its_chart(browser, container, aiohttp_server, clock, shots):
    from tests.admin_web.test_reports_page import _data

    await _data(container, clock)
    server = await aiohttp_server(build_web_app(container))
    site = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page(viewport={"width": 375, "height": 740})
    await sign_in_page(page, site, "admin", "good horse 1")
    await page.goto(f"{site}/admin/reports?preset=month")
    await page.wait_for_function("document.querySelector('img.chart').naturalWidth > 0")
    assert await page.locator("tr[data-person]").count() == 3
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-report-phone.png"), full_page=True)


async def test_a_page_of_robot_leads_is_ticked_marked_spam_and_undone_at_phone_width(
    browser, container, aiohttp_server, clock, shots
):
    from services import leads

    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        await factories.employee(s, clock, name="Анна", office="Центр")
        for i in range(4):
            lead = leads.LeadIn(source="form:promo", phone=f"+7912000880{i}", name=f"Бот {i}")
            await leads.register_incoming(s, lead, company=container.company)
        lead = leads.LeadIn(source="form:site", phone="+79120008899", name="Иван")
        await leads.register_incoming(s, lead, company=container.company)
    server = await aiohttp_server(build_web_app(container))
    site = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page(viewport={"width": 375, "height": 740})
    await sign_in_page(page, site, "boss", "correct horse")
    await page.fill("form.search input[name=source]", "form:promo")
    await page.click("form.search >> text=Показать")
    assert await page.locator("tr[data-lead]").count() == 4
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.check("#tick-all")  # every row of the page, by the box in the header
    assert await page.locator("input[name=id][form=bulk]:checked").count() == 4
    await page.select_option("form#bulk select[name=mark]", value="spam:robot")
    await page.screenshot(path=str(shots / "admin-leads-phone.png"), full_page=True)
    await page.click("form#bulk >> text=Посчитать отметку")
    assert "Отметить 4 лида как спам: Робот / автообзвон." in await page.text_content("main")
    await page.screenshot(path=str(shots / "admin-leads-mark-phone.png"), full_page=True)
    await page.click('button:text-is("Отметить")')
    await page.wait_for_url(re.compile(r".*/admin/bulk/\d+$"))
    assert "4 лида — спам" in await page.text_content("p.done")
    operation = page.url
    await page.goto(f"{site}/admin/?status=spam")
    assert await page.locator("tr[data-lead]").count() == 4
    await page.goto(operation)
    await page.click('button:text-is("Отменить")')
    await page.goto(f"{site}/admin/?status=new")
    assert await page.locator("tr[data-lead]").count() == 5
