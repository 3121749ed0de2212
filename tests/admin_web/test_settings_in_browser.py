"""The settings pages in headless Chromium at phone width: everyone, one person's page (a
schedule with a lunch break typed and saved), offices (a time zone set), the stages."""

from __future__ import annotations

from services import admins
from tests import factories
from tests.admin_web.forms import sign_in_page
from webhooks.server import build_web_app


async def test_settings_pages_fit_a_phone_and_a_week_and_a_zone_are_saved(
    browser, container, aiohttp_server, clock, shots
):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        anna = await factories.employee(s, clock, name="Анна Смирнова", office="Центр")
        await factories.employee(s, clock, name="Борис", office="Север")
    server = await aiohttp_server(build_web_app(container))
    site = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page(viewport={"width": 375, "height": 740})
    await sign_in_page(page, site, "boss", "correct horse")

    await page.goto(f"{site}/admin/settings/people")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-people-phone.png"), full_page=True)
    await page.click("text=Анна Смирнова")
    await page.wait_for_url(f"{site}/admin/settings/people/{anna.id}")
    await page.fill("#day_0", "09:00-13:00, 14:00-18:00")
    await page.fill("#day_5", "10:00-14:00")
    await page.click("form#week button[type=submit]")
    await page.wait_for_url(f"{site}/admin/settings/people/{anna.id}?saved=week")
    assert await page.text_content("p.saved") == "Сохранено"
    assert await page.input_value("#day_0") == "09:00-13:00, 14:00-18:00"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-person-phone.png"), full_page=True)

    await page.goto(f"{site}/admin/settings/offices")
    await page.fill("tr[data-office] input[name=timezone] >> nth=0", "Asia/Yekaterinburg")
    await page.click("tr[data-office] button >> nth=0")
    await page.wait_for_url(f"{site}/admin/settings/offices")
    zone = await page.input_value("tr[data-office] input[name=timezone] >> nth=0")
    assert zone == "Asia/Yekaterinburg"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-offices-phone.png"), full_page=True)

    await page.goto(f"{site}/admin/settings/stages")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-stages-phone.png"), full_page=True)
