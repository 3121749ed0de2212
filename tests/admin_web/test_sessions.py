"""The admin session cookie, as a browser would receive and lose it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import AuditEntry
from services import admins
from tests.admin_web.forms import page_token, sign_in


async def test_the_session_cookie_is_http_only_strict_and_scoped_to_the_admin(
    web, container, clock
):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    response = await sign_in(web, "boss", "correct horse")
    assert response.status == 302 and response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    for flag in ("crm_session=", "HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=43200"):
        assert flag in cookie
    assert (await web.get("/admin/", allow_redirects=False)).status == 200
    token_field = await page_token(web, "/admin/")
    token = cookie.split("crm_session=", 1)[1].split(";", 1)[0]
    web.session.cookie_jar.clear()
    replay = await web.get(
        "/admin/", allow_redirects=False, headers={"Cookie": f"crm_session={token}"}
    )
    assert replay.status == 200  # the token alone opens the admin while the session lives
    out = await web.post(
        "/admin/logout",
        allow_redirects=False,
        headers={"Cookie": f"crm_session={token}"},
        data={"csrf_token": token_field},
    )
    assert out.headers["Location"] == "/admin/login"
    # The old cookie, replayed after logout, opens nothing: the session is gone server-side.
    web.session.cookie_jar.clear()
    replay = await web.get(
        "/admin/", allow_redirects=False, headers={"Cookie": f"crm_session={token}"}
    )
    assert replay.headers["Location"] == "/admin/login"


@pytest.mark.parametrize("typed", ["bo\x00ss", "x" * 100_000])
async def test_a_hostile_login_is_just_a_wrong_login(web, container, clock, typed):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    response = await sign_in(web, typed, "pass\x00word")
    assert response.status == 401
    assert "Неверный логин или пароль" in await response.text()
    async with container.db.unit_of_work() as s:
        [entry] = await s.scalars(
            sa.select(AuditEntry.data).where(AuditEntry.action == "web.login_failed")
        )
    assert len(entry["login"]) <= 64


async def test_the_admin_reads_the_pages_in_their_own_language(web, container, clock):
    from models import Employee

    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    await sign_in(web, "boss", "correct horse")
    assert "Лиды" in await (await web.get("/admin/")).text()  # the company's language
    async with container.db.unit_of_work() as s:
        await s.execute(sa.update(Employee).values(locale="en"))
    page = await (await web.get("/admin/")).text()
    assert "Leads" in page and "Лиды" not in page


async def test_a_filter_that_is_not_one_is_said_not_guessed(web, container, clock):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    await sign_in(web, "boss", "correct horse")
    assert (await web.get("/admin/?status=target")).status == 200
    response = await web.get("/admin/?status=<script>")
    assert response.status == 422
    page = await response.text()
    assert "Не удалось прочитать поля: status" in page and "<script>" not in page


async def test_a_page_that_is_not_there_says_so_in_the_admins_language(web, container, clock):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    assert (await web.get("/admin/employees", allow_redirects=False)).status == 302  # sign in
    await sign_in(web, "boss", "correct horse")
    response = await web.get("/admin/employees")
    assert response.status == 404 and "Такой страницы нет" in await response.text()
