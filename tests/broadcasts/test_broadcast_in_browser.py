"""A broadcast in headless Chromium, as a theme park's sales lead sends a spring offer to
the clients tagged "vip": count the segment, write the text, send, and watch the page count
the messages going out by itself; on a phone too."""

from __future__ import annotations

import asyncio
import re

from models import Channel
from scheduler.rate_limit import MemoryRateLimiter, bulk_lane
from services import admins
from tests.admin_web.forms import sign_in_page
from tests.broadcasts.conftest import client_by_form
from tests.broadcasts.test_broadcasts import tag
from webhooks.server import build_web_app

CLIENTS = 60


async def test_a_broadcast_is_counted_sent_and_followed_live(
    browser, container, aiohttp_server, fake_wa, shots
):
    clock = container.company.clock
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    for i in range(CLIENTS):
        await tag(
            container, await client_by_form(container, f"+7916444{i:04d}", f"Гость {i}"), "vip"
        )
    await client_by_form(container, "+79164449999", "Не vip")
    # WhatsApp at 25 a second: the broadcast's lane takes 20 of them, three seconds' worth.
    container.pump.bulk[Channel.WHATSAPP] = bulk_lane(25, lambda r: MemoryRateLimiter(r, 0))
    container.pump.start()
    server = await aiohttp_server(build_web_app(container))
    site = f"http://127.0.0.1:{server.port}"

    page = await browser.new_page(viewport={"width": 375, "height": 740})
    await sign_in_page(page, site, "boss", "correct horse")
    await page.click("header >> text=Рассылки")
    await page.click("text=Новая рассылка")
    await page.select_option("select[name=channel]", "whatsapp")
    await page.fill("input[name=tags]", "vip")
    await page.click("form.segment button[type=submit]")
    assert "Не писали больше суток — нужен шаблон: 60" in await page.text_content("ul.sizes")
    await page.select_option("select[name=template]", "spring_sale")
    await page.click("form.segment button[type=submit]")
    assert "Получат: 60" in await page.text_content("ul.sizes")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.fill("textarea[name=text]", "Весной скидка 20% на годовой абонемент")
    await page.screenshot(path=str(shots / "admin-broadcast-new-phone.png"), full_page=True)
    await page.click("text=Отправить (60)")
    await page.wait_for_url(re.compile(r".*/admin/broadcasts/\d+$"))

    # The page reloads itself while messages go; each load shows how far it got.
    seen: list[int] = []
    for _ in range(200):
        try:  # both from the same load of the page
            shown = await page.evaluate(
                "() => [document.querySelector('[data-count=sent] strong')?.textContent,"
                " document.querySelector('p.progress')?.dataset.done]"
            )
        except Exception:  # caught mid-reload: look again
            await asyncio.sleep(0.05)
            continue
        if shown[0] is None or shown[1] is None:
            await asyncio.sleep(0.05)
            continue
        sent, done = int(shown[0]), shown[1]
        if not seen or seen[-1] != sent:
            seen.append(sent)
        if done == "yes":
            break
        await asyncio.sleep(0.1)
    assert seen[-1] == CLIENTS and len(seen) >= 2, seen
    assert any(0 < n < CLIENTS for n in seen), seen  # a moment in between was shown
    assert "Рассылка завершена" in await page.text_content("p.progress")
    await page.screenshot(path=str(shots / "admin-broadcast-done-phone.png"), full_page=True)
    assert len({s.body["to"] for s in fake_wa.sent}) == CLIENTS
    assert all(s.body["template"]["name"] == "spring_sale" for s in fake_wa.sent)
