"""Filling in admin forms as a browser does: the page's hidden CSRF field goes back with it."""

from __future__ import annotations

import re
from typing import Any

_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def page_token(client: Any, path: str = "/admin/login") -> str:
    """The CSRF token in the form on `path` (fetching it also sets any pre-session cookie)."""
    response = await client.get(path)
    found = _FIELD.search(await response.text())
    assert found, f"no CSRF field on {path}"
    return found.group(1)


async def sign_in(client: Any, login: str, password: str) -> Any:
    """Open the login page and submit it; the response is not followed."""
    token = await page_token(client)
    return await client.post(
        "/admin/login",
        allow_redirects=False,
        data={"login": login, "password": password, "csrf_token": token},
    )
