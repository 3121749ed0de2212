"""`/admin/…`: login, logout and the lead list. Everything but the login page needs a session.

Each view translates the request, calls one service and renders a template; texts come from
the locale files (`web.*` keys).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.mango.client import MangoError, recording_link
from config.i18n import Translator
from models import LeadStatus
from services import calls, lead_cards, web_sessions
from services.identities import format_phone
from webhooks.common import read_form
from webhooks.context import container_of

COOKIE = "crm_session"
EMPLOYEE: web.RequestKey[Any] = web.RequestKey("admin_employee")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    env.filters["phone"] = lambda value: format_phone(value) if value else ""
    app.middlewares.append(require_session)
    app.router.add_get("/admin", to_leads)
    app.router.add_get("/admin/login", login_page)
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", logout)
    app.router.add_get("/admin/", leads_page)
    app.router.add_get("/admin/calls/{call_id:\\d+}/recording", call_recording)


@web.middleware
async def require_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/admin") or request.path == "/admin/login":
        return await handler(request)
    container = container_of(request)
    async with container.db.unit_of_work() as session:
        employee = await web_sessions.employee_for(
            session, request.cookies.get(COOKIE), container.company.clock.now()
        )
    if employee is None:
        raise web.HTTPFound("/admin/login")
    request[EMPLOYEE] = employee
    return await handler(request)


def _context(request: web.Request, **values: Any) -> dict[str, Any]:
    container = container_of(request)
    return {"t": Translator(container.settings.locale), "tz": container.company.timezone, **values}


async def to_leads(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/")


async def login_page(request: web.Request) -> web.StreamResponse:
    return aiohttp_jinja2.render_template("login.html", request, _context(request))


async def login(request: web.Request) -> web.StreamResponse:
    container = container_of(request)
    form = await read_form(request)  # unreadable bodies, NUL in a login: a 400, never a 500
    login_name, password = str(form.get("login", "")), str(form.get("password", ""))
    async with container.db.unit_of_work() as session:
        outcome = await web_sessions.log_in(
            session, login=login_name, password=password, now=container.company.clock.now()
        )
    if outcome.token is None:
        key = outcome.error.key if outcome.error else "web.login_wrong"
        context = _context(request, error_key=key, login=login_name)
        return aiohttp_jinja2.render_template("login.html", request, context, status=401)
    response = web.HTTPFound("/admin/")
    response.set_cookie(
        COOKIE,
        outcome.token,
        httponly=True,
        samesite="Strict",
        path="/admin",
        max_age=int(web_sessions.SESSION_TTL.total_seconds()),
        secure=request.secure,
    )
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    container = container_of(request)
    async with container.db.unit_of_work() as session:
        await web_sessions.log_out(session, request.cookies.get(COOKIE))
    response = web.HTTPFound("/admin/login")
    response.del_cookie(COOKIE, path="/admin")
    raise response


async def leads_page(request: web.Request) -> web.StreamResponse:
    container = container_of(request)
    raw = request.query.get("status")
    status = LeadStatus(raw) if raw in {s.value for s in LeadStatus} else None
    async with container.db.unit_of_work() as session:
        rows = await lead_cards.recent(session, status=status)
    context = _context(
        request, leads=rows, status=status, statuses=list(LeadStatus), me=request[EMPLOYEE]
    )
    return aiohttp_jinja2.render_template("leads.html", request, context)


async def call_recording(request: web.Request) -> web.StreamResponse:
    """The recording of a call: the PBX's URL, or a fresh link from Mango for its id."""
    container = container_of(request)
    async with container.db.unit_of_work() as session:
        recording = await calls.recording_of(session, int(request.match_info["call_id"]))
    if recording.url:
        raise web.HTTPFound(recording.url)
    settings = container.settings
    if not (recording.recording_id and settings.mango_api_key and settings.mango_api_salt):
        raise web.HTTPNotFound(text="the recording is kept at the PBX, which is not configured")
    try:
        link = await recording_link(
            base=settings.mango_api_base,
            key=settings.mango_api_key,
            salt=settings.mango_api_salt,
            recording_id=recording.recording_id,
        )
    except MangoError as exc:
        raise web.HTTPBadGateway(text=str(exc)) from exc
    raise web.HTTPFound(link)
