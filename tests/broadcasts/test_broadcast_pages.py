"""Broadcasts in the admin web as a browser sends them: the segment counted, the text sent,
progress on the broadcast's page; and the refusals (no session, bad CSRF token, another
office's broadcast, input that does not fit)."""

from __future__ import annotations

import asyncio
import re

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Role
from services import admins
from tests import factories
from tests.admin_web.forms import page_token, sign_in
from tests.broadcasts.test_broadcasts import whatsapp_base
from tests.chat import drain
from tests.conversations.support import post


async def _login(container, *, login="admin", role=Role.ADMIN, office=None):
    clock = container.company.clock
    async with container.db.unit_of_work() as s:
        who = await factories.employee(s, clock, name=login.title(), role=role, office=office)
        await admins.give_login(
            s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
        )
    return who


def _hidden(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)


async def _broadcasts(container) -> int:
    async with container.db.unit_of_work() as s:
        return (await s.execute(sa.text("select count(*) from broadcasts"))).scalar_one()


async def test_a_segment_is_counted_sent_and_its_progress_shown(web, container, fake_wa):
    await whatsapp_base(web, container, fake_wa)
    await _login(container)
    await sign_in(web, "admin", "good horse 1")
    query = {"channel": "whatsapp", "tags": "vip", "count": "1"}
    page = await (await web.get("/admin/broadcasts/new", params=query)).text()
    assert 'data-outcome="send"><strong>Получат: 1</strong>' in page
    assert "Не писали больше суток — нужен шаблон: 2" in page
    assert "Отписались: 1" in page and "Нет адреса в этом канале: 1" in page
    # With the template, the two who were silent for days get it too.
    page = await (
        await web.get("/admin/broadcasts/new", params={**query, "template": "spring_sale"})
    ).text()
    assert "Получат: 3" in page and "Отправить (3)" in page
    form = [*_hidden(page), ("text", "Весенняя скидка 20%")]
    assert ("template", "spring_sale") in form and ("tags", "vip") in form
    # Send pressed twice at once, and the form sent again later: one broadcast.
    presses = await asyncio.gather(
        *(web.post("/admin/broadcasts", data=form, allow_redirects=False) for _ in range(2))
    )
    again = await web.post("/admin/broadcasts", data=form, allow_redirects=False)
    assert {r.status for r in [*presses, again]} == {302}
    assert len({r.headers["Location"] for r in [*presses, again]}) == 1
    assert await _broadcasts(container) == 1
    path = again.headers["Location"]
    page = await (await web.get(path)).text()
    assert 'data-count="waiting">Ждут отправки: <strong>3</strong>' in page
    assert 'http-equiv="refresh"' in page  # the page follows the sending by itself
    await drain(container)
    page = await (await web.get(path)).text()
    assert 'data-count="sent">Отправлено: <strong>3</strong>' in page
    assert 'data-done="yes"' in page and 'http-equiv="refresh"' not in page
    wamids = {s.body["to"]: s.wamid for s in fake_wa.sent}
    await post(web, fake_wa, statuses=[fake_wa.status(wamids["79161110002"], "read")])
    page = await (await web.get(path)).text()
    assert 'data-count="delivered">Доставлено: <strong>1</strong>' in page
    assert 'data-count="opted_out">Отписались: <strong>1</strong>' in page
    listing = await (await web.get("/admin/broadcasts")).text()
    assert "Весенняя скидка 20%" in listing and f'href="{path}"' in listing
    assert len(fake_wa.sent) == 3  # nobody got it twice


async def test_refusals_write_nothing(web, aiohttp_client, container, fake_wa):
    clients = await whatsapp_base(web, container, fake_wa)
    await _login(container)
    north = await _login(container, login="nina", role=Role.MANAGER, office="Север")
    async with container.db.unit_of_work() as s:
        await s.execute(
            sa.text("update clients set office_id = :o where id = :c"),
            {"o": north.office_id, "c": clients["Ирина"]},
        )
    form = {"channel": "whatsapp", "tags": "vip", "template": "spring_sale", "text": "x"}
    # No session: to the login page.
    stranger = await aiohttp_client(web.server.app)
    response = await stranger.post("/admin/broadcasts", data=form, allow_redirects=False)
    assert response.status in (302, 403)
    # No CSRF token, or a wrong one.
    await sign_in(web, "admin", "good horse 1")
    assert (await web.post("/admin/broadcasts", data=form)).status == 403
    forged = {**form, "csrf_token": "0" * 64}
    assert (await web.post("/admin/broadcasts", data=forged)).status == 403
    token = await page_token(web, "/admin/broadcasts/new")
    # Input that does not fit: a channel we do not have, a text too long, a bad date, an
    # empty text, a template nobody approved.
    for bad, says in (
        ({"channel": "sms"}, "channel"),
        ({"text": "я" * 4097}, "text"),
        ({"contacted_since": "2026-02-30"}, "contacted_since"),
        ({"text": "   "}, "Напишите текст"),
        ({"template": "not_approved"}, "шаблона нет"),
    ):
        response = await web.post("/admin/broadcasts", data={**form, **bad, "csrf_token": token})
        assert response.status == 422 and says in await response.text(), bad
    assert await _broadcasts(container) == 0
    # A manager's broadcast (their office's clients only); another office's manager cannot
    # open it.
    await web.post("/admin/logout", data={"csrf_token": await page_token(web, "/admin/broadcasts")})
    await sign_in(web, "nina", "good horse 1")
    token = await page_token(web, "/admin/broadcasts/new")
    response = await web.post(
        "/admin/broadcasts", data={**form, "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 302
    path = response.headers["Location"]
    assert (await web.get(path)).status == 200
    async with container.db.unit_of_work() as s:
        office = (await s.execute(sa.text("select office_id from broadcasts"))).scalar_one()
    assert office == north.office_id
    assert [s.body["to"] for s in fake_wa.sent] == []  # not yet: the outbox sends it
    await drain(container)
    assert [s.body["to"] for s in fake_wa.sent] == ["79161110002"]  # Ирина, of Север
    await web.post("/admin/logout", data={"csrf_token": await page_token(web, path)})
    await _login(container, login="yuri", role=Role.MANAGER, office="Юг")
    await sign_in(web, "yuri", "good horse 1")
    assert (await web.get(path)).status == 404
    assert await _broadcasts(container) == 1


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "channel",
                "tags",
                "stage",
                "source",
                "contacted_since",
                "quiet_since",
                "template",
                "count",
            ]
        ),
        st.one_of(
            st.text(max_size=300),
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.sampled_from(["whatsapp", "telegram", "1", "2026-03-29", "0001-01-01", "%", "_"]),
        ),
        max_size=6,
    )
)
async def test_hostile_segments_get_a_page_never_a_5xx(web, container, params):
    if not getattr(web, "signed_in", False):
        await _login(container)
        await sign_in(web, "admin", "good horse 1")
        web.signed_in = True
    clean = {k: v.replace("\x00", "") for k, v in params.items()}
    response = await web.get("/admin/broadcasts/new", params={**clean, "count": "1"})
    assert response.status in (200, 422), (response.status, clean)
