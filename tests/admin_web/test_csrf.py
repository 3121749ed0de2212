"""Forged admin requests: whatever changes something must come from the admin's own page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from aiohttp import web as aioweb

from models import AuditEntry, WebSession
from services import admins
from tests.admin_web.forms import page_token, sign_in
from webhooks.server import build_web_app


@pytest.fixture
async def admin(container, clock) -> None:
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())


async def signed_in(web) -> str:
    """Sign `boss` in on the client; returns the token of the form on the lead list."""
    assert (await sign_in(web, "boss", "correct horse")).status == 302
    return await page_token(web, "/admin/")


async def still_signed_in(web) -> bool:
    return (await web.get("/admin/", allow_redirects=False)).status == 200


async def test_a_logout_without_the_token_is_refused_and_the_admin_stays_in(web, admin):
    assert (await sign_in(web, "boss", "correct horse")).status == 302
    forged = await web.post("/admin/logout", allow_redirects=False)
    assert forged.status == 403
    assert "отправлена с другого сайта" in await forged.text()
    assert await still_signed_in(web)


async def test_a_guessed_or_foreign_token_is_refused(web, admin, container, aiohttp_client):
    await signed_in(web)
    other = await aiohttp_client(build_web_app(container))
    foreign = await signed_in(other)  # a valid token, but of another session
    for token in ("0" * 64, foreign):
        forged = await web.post("/admin/logout", allow_redirects=False, data={"csrf_token": token})
        assert forged.status == 403
    assert await still_signed_in(web) and await still_signed_in(other)


async def test_a_foreign_origin_is_refused_even_with_the_token(web, admin):
    token = await signed_in(web)
    own = f"http://{web.server.host}:{web.server.port}"
    for origin in ("http://evil.example.com", "null", f"http://{web.server.host}:1"):
        forged = await web.post(
            "/admin/logout",
            allow_redirects=False,
            data={"csrf_token": token},
            headers={"Origin": origin},
        )
        assert forged.status == 403, origin
    assert await still_signed_in(web)
    out = await web.post(
        "/admin/logout", allow_redirects=False, data={"csrf_token": token}, headers={"Origin": own}
    )
    assert out.status == 302 and out.headers["Location"] == "/admin/login"
    assert not await still_signed_in(web)


async def test_the_login_form_needs_its_pre_session_token(web, admin, container):
    form = {"login": "boss", "password": "correct horse"}
    forged = await web.post("/admin/login", allow_redirects=False, data=form)
    assert forged.status == 403 and "crm_session" not in forged.cookies
    # A token made for another browser's pre-session cookie does not fit this one.
    stranger = await page_token(web)
    web.session.cookie_jar.clear()
    await page_token(web)
    form["csrf_token"] = stranger
    assert (await web.post("/admin/login", allow_redirects=False, data=form)).status == 403
    async with container.db.unit_of_work() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(WebSession)) == 0
        logins = sa.select(sa.func.count()).where(AuditEntry.action.like("web.login%"))
        assert await s.scalar(logins) == 0  # refused before the login was even tried
    assert (await sign_in(web, "boss", "correct horse")).status == 302


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a_future_admin_page_is_protected_without_doing_anything(
    method, container, admin, aiohttp_client
):
    """Any admin route, however it is added, gets the check before its handler runs."""
    calls: list[str] = []

    async def change_something(request: aioweb.Request) -> aioweb.Response:
        calls.append(request.method)
        return aioweb.Response(text="changed")

    app = build_web_app(container)
    app.router.add_route(method, "/admin/settings", change_something)
    web = await aiohttp_client(app)
    token = await signed_in(web)
    refused = await web.request(method, "/admin/settings", data={"x": "1"})
    assert refused.status == 403 and calls == []
    done = await web.request(method, "/admin/settings", headers={"X-CSRF-Token": token})
    assert done.status == 200 and calls == [method]
