"""The admin web in headless Chromium, as an admin uses it: sign in, see the leads, sign out."""

from __future__ import annotations

import re

import pytest
from aiohttp import web

from services import admins
from services.leads import intake
from tests import factories
from tests.admin_web.forms import sign_in_page
from webhooks.server import build_web_app


@pytest.fixture
async def site(container, aiohttp_server, clock):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        await factories.employee(s, clock, name="Анна")
        await intake.register_incoming(
            s,
            intake.LeadIn(
                source="form:tilda",
                name="Иван Петров",
                phone="89120001122",
                utm={"utm_source": "yandex"},
            ),
            company=container.company,
        )
        await intake.register_incoming(
            s,
            intake.LeadIn(source="form:site", name="Ольга", phone="123"),
            company=container.company,
        )
    server = await aiohttp_server(build_web_app(container))
    return f"http://127.0.0.1:{server.port}"


async def test_an_admin_signs_in_sees_the_leads_and_signs_out(browser, site):
    page = await browser.new_page()
    await page.goto(f"{site}/admin/")
    assert page.url.endswith("/admin/login")  # no session: sent to the login page

    await page.fill("#login", "boss")
    await page.fill("#password", "wrong password")
    await page.click("button[type=submit]")
    assert await page.text_content("[role=alert]") == "Неверный логин или пароль"

    await page.fill("#password", "correct horse")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{site}/admin/")
    rows = await page.locator("tbody tr").all_inner_texts()
    assert len(rows) == 2
    assert "Иван Петров" in rows[1] and "+7 912 000-11-22" in rows[1] and "yandex" in rows[1]
    assert "Анна" in rows[1] and "новый" in rows[1]
    assert "Ольга" in rows[0] and "123" in rows[0]

    await page.click("text=спам")
    assert await page.locator("tbody tr").count() == 0
    assert "Лидов пока нет" in await page.inner_text("main")

    await page.click("text=Выйти")
    await page.wait_for_url(f"{site}/admin/login")
    await page.goto(f"{site}/admin/")
    assert page.url.endswith("/admin/login")  # the session is gone


async def test_the_login_locks_after_repeated_wrong_passwords(browser, site):
    page = await browser.new_page()
    await page.goto(f"{site}/admin/login")
    for _ in range(5):
        await page.fill("#login", "boss")
        await page.fill("#password", "guess")
        await page.click("button[type=submit]")
    await page.fill("#password", "correct horse")
    await page.click("button[type=submit]")
    # Three mistakes are free; after the fourth the next attempt from here waits 2 s.
    assert await page.text_content("[role=alert]") == (
        "Слишком много неудачных попыток. Повторите через 2 с"
    )
    assert page.url.endswith("/admin/login")


async def test_a_forged_logout_from_a_sibling_site_does_nothing_but_the_button_works(
    browser, site, aiohttp_server
):
    admin = site.replace("127.0.0.1", "admin.example.com")
    evil_page = f"""<!doctype html><form method="post" action="{admin}/admin/logout">
        <input type="hidden" name="csrf_token" value="guessed"></form>
        <script>document.forms[0].submit()</script>"""

    async def lure(_request: web.Request) -> web.Response:
        return web.Response(text=evil_page, content_type="text/html")

    evil_app = web.Application()
    evil_app.router.add_get("/", lure)
    evil = await aiohttp_server(evil_app)

    page = await browser.new_page()
    await page.goto(f"{admin}/admin/login")
    await page.fill("#login", "boss")
    await page.fill("#password", "correct horse")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{admin}/admin/")

    # The admin opens a page on evil.example.com (same site, so the Strict cookie goes along).
    await page.goto(f"http://evil.example.com:{evil.port}/")
    await page.wait_for_url(re.compile(r"^http://admin\.example\.com:\d+/admin/"))
    await page.wait_for_load_state()
    await page.goto(f"{admin}/admin/")
    assert page.url == f"{admin}/admin/"  # still signed in
    assert await page.locator("tbody tr").count() == 2

    await page.click("text=Выйти")
    await page.wait_for_url(f"{admin}/admin/login")
    await page.goto(f"{admin}/admin/")
    assert page.url.endswith("/admin/login")  # the real button did sign out


async def test_the_pages_fit_a_phone_and_the_password_is_changed_there(browser, site, shots):
    page = await browser.new_page(viewport={"width": 375, "height": 740})
    await sign_in_page(page, site, "boss", "correct horse")
    header = await page.locator("header").bounding_box()
    assert header is not None and header["width"] <= 375  # the header wraps, never overflows
    # the table scrolls inside its own box; the page itself never scrolls sideways
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(shots / "admin-leads-phone.png"), full_page=True)

    await page.click("text=Сменить пароль")
    await page.wait_for_url(f"{site}/admin/password")
    body_width = await page.evaluate("document.documentElement.scrollWidth")
    assert body_width <= 375
    await page.fill("#current", "correct horse")
    await page.fill("#new", "battery staple")
    await page.fill("#repeated", "battery staple")
    await page.click("form.card button[type=submit]")
    assert "Пароль изменён" in await page.text_content("[role=status]")
    await page.screenshot(path=str(shots / "admin-password-phone.png"), full_page=True)
