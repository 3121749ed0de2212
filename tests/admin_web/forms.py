"""Filling in admin forms as a browser does: the page's hidden CSRF field goes back with it."""

from __future__ import annotations

import re
from typing import Any

_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def page_token(client: Any, path: str = "/admin/login") -> str:
    """The CSRF token in the form on `path` (fetching it also sets any pre-session cookie)."""
    token = await _token_on(client, path)
    assert token, f"no CSRF field on {path}"
    return token


async def _token_on(client: Any, path: str) -> str | None:
    response = await client.get(path)
    found = _FIELD.search(await response.text())
    return found.group(1) if found else None


async def sign_in(client: Any, login: str, password: str, **headers: str) -> Any:
    """Open the login page and submit it as shown; the response is not followed."""
    form = {"login": login, "password": password}
    token = await _token_on(client, "/admin/login")
    if token:  # a page without the field is the CSRF tests' business, not the caller's
        form["csrf_token"] = token
    return await client.post(
        "/admin/login", allow_redirects=False, data=form, headers=headers or None
    )


async def sign_in_page(page: Any, site: str, login: str, password: str) -> None:
    """Sign in through the login page in the browser, as a person does; waits for the start
    page."""
    await page.goto(f"{site}/admin/login")
    await page.fill("#login", login)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{site}/admin/")
