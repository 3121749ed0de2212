"""The admin web's edge, one middleware for every `/admin` request, in this order:

1. one unit of work for the whole request (a redirect commits; a domain error rolls back);
2. the session: everything but the login page needs one, else a redirect to the login page;
3. CSRF (admin_web.csrf): an unsafe method without a genuine token is refused with a 403 page
   before the handler runs, so nothing is written;
4. the handler; a domain error it raises becomes a page with the error's text and status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from ipaddress import ip_address
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from admin_web import csrf
from config.i18n import Translator
from config.settings import IPNetwork
from services import access, web_sessions
from services.errors import DomainError
from services.imports.reading import MAX_BYTES
from web_app import container_of

COOKIE = "crm_session"
LOGIN_PATH = "/admin/login"
EMPLOYEE: web.RequestKey[Any] = web.RequestKey("admin_employee")
DB: web.RequestKey[AsyncSession] = web.RequestKey("admin_db")
LOCALE: web.RequestKey[str] = web.RequestKey("admin_locale")
# The header's links, read once with the session (pages after a rollback cannot load them).
AUDIT: web.RequestKey[bool] = web.RequestKey("admin_reads_audit")
BULK: web.RequestKey[bool] = web.RequestKey("admin_changes_in_bulk")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def admin_edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path != "/admin" and not request.path.startswith("/admin/"):
        return await handler(request)
    redirect: web.HTTPRedirection | None = None
    try:
        async with container_of(request).db.unit_of_work() as session:
            request[DB] = session
            try:
                response = await _serve(request, handler, session)
            except web.HTTPRedirection as exc:  # a redirect is a success: keep what was written
                redirect = exc
    except DomainError as exc:
        return message_page(request, exc.key, status=exc.http_status, **exc.params)
    if redirect is not None:
        raise redirect
    return response


async def _serve(
    request: web.Request, handler: Handler, session: AsyncSession
) -> web.StreamResponse:
    fresh_secret = None
    if request.path == LOGIN_PATH:
        secret = request.cookies.get(csrf.PRE_SESSION_COOKIE)
        if not secret:
            secret = fresh_secret = csrf.new_secret()
    else:
        secret = request.cookies.get(COOKIE, "")
        now = container_of(request).company.clock.now()
        employee = await web_sessions.employee_for(session, secret, now)
        if employee is None:
            raise web.HTTPFound(LOGIN_PATH)
        request[EMPLOYEE] = employee
        if employee.locale:
            request[LOCALE] = employee.locale
        request[AUDIT] = access.can_read_audit(employee)
        request[BULK] = access.can_change_in_bulk(employee)
    request[csrf.SECRET] = secret
    try:
        if request.method not in csrf.SAFE_METHODS:
            public_url = container_of(request).settings.public_url
            if not await csrf.is_genuine(request, public_url):
                return message_page(request, "web.csrf_failed", status=403)
        response = await handler(request)
    except web.HTTPNotFound:  # no such page, or a record not there (or not the viewer's)
        return message_page(request, "web.not_found", status=404)
    except web.HTTPRequestEntityTooLarge:  # a file over the body limit
        limit = MAX_BYTES // 2**20
        return message_page(request, "web.too_big", status=413, limit=limit)
    if fresh_secret is not None:
        response.set_cookie(
            csrf.PRE_SESSION_COOKIE,
            fresh_secret,
            httponly=True,
            samesite="Strict",
            path=LOGIN_PATH,
            secure=request.secure,
        )
    return response


def client_address(request: web.Request, proxies: Sequence[IPNetwork]) -> str | None:
    """Where the request came from: its peer, unless the peer is a trusted proxy; then the
    nearest X-Forwarded-For hop that is not one (hops further left are the client's own word)."""
    address = request.remote
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    for hop in reversed([h.strip() for h in hops if h.strip()]):
        if not (_is_ip(hop) and _within(address, proxies)):
            break
        address = hop
    return address


def _is_ip(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _within(address: str | None, networks: Sequence[IPNetwork]) -> bool:
    if not address or not _is_ip(address):
        return False
    return any(ip_address(address) in network for network in networks)


def context(request: web.Request, **values: Any) -> dict[str, Any]:
    """What every admin template gets: the request (for `csrf_field()`), the translator (in the
    signed-in employee's own language, else the company's) and the office's time zone."""
    container = container_of(request)
    translator = Translator(request.get(LOCALE) or container.settings.locale)
    return {
        "request": request,
        "t": translator,
        "tz": container.company.timezone,
        "can_read_audit": request.get(AUDIT, False),
        "can_change_in_bulk": request.get(BULK, False),
        **values,
    }


def message_page(request: web.Request, key: str, *, status: int, **params: Any) -> web.Response:
    """A page that says one thing (a refused form, a domain error) with a way back."""
    values = context(request, message_key=key, params=params, back=_back(request))
    return aiohttp_jinja2.render_template("message.html", request, values, status=status)


def _back(request: web.Request) -> str:
    """Where a message page's link leads: the admin page the request came from, else the
    start page (never another site's address)."""
    referer = URL(request.headers.get("Referer", ""))
    if referer.path.startswith("/admin/") and referer.path != LOGIN_PATH:
        return str(referer.relative())
    return "/admin/"
