"""`/admin/…`: login, logout, the lead list and a lead's page, one's own password. Everything
but the login page needs a session.

Each view translates the request into a typed input, calls one service in the request's unit
of work (admin_web.edge) and renders a template; texts come from the locale files (`web.*`).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from admin_web import (
    broadcasts,
    bulk,
    csrf,
    imports,
    inputs,
    lists,
    people,
    reports,
    settings,
)
from admin_web.edge import (
    COOKIE,
    DB,
    EMPLOYEE,
    LOGIN_PATH,
    admin_edge,
    client_address,
    context,
)
from admin_web.inputs import LoginForm
from bot.mango.client import MangoError, recording_link
from services import access, audit, calls, web_sessions
from services.clients.identities import format_phone
from services.errors import DomainError, NotFound
from services.leads import cards as lead_cards
from services.web_sessions import Throttled
from web_app import container_of
from webhooks.common import read_form

__all__ = ["COOKIE", "setup"]


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    env.filters["phone"] = lambda value: format_phone(value) if value else ""
    env.globals["csrf_field"] = csrf.csrf_field
    app.middlewares.append(admin_edge)
    app.router.add_get("/admin", to_leads)
    app.router.add_get(LOGIN_PATH, login_page)
    app.router.add_post(LOGIN_PATH, login)
    app.router.add_post("/admin/logout", logout)
    app.router.add_get("/admin/leads/{lead_id:\\d{1,18}}", lead_page)
    app.router.add_get("/admin/password", password_page)
    app.router.add_get("/admin/audit", audit_page)
    app.router.add_get("/admin/security", security_page)
    app.router.add_post("/admin/password", change_password)
    app.router.add_get("/admin/calls/{call_id:\\d+}/recording", call_recording)
    lists.setup(app)
    bulk.setup(app)
    imports.setup(app)
    broadcasts.setup(app)
    reports.setup(app)
    settings.setup(app)
    people.setup(app)


async def to_leads(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/")


async def login_page(request: web.Request) -> web.StreamResponse:
    return aiohttp_jinja2.render_template("login.html", request, context(request))


async def login(request: web.Request) -> web.StreamResponse:
    container = container_of(request)
    # An unreadable body is a 400 (BadBody), never a 500; read_form drops NUL (PostgreSQL
    # text cannot hold it).
    form = inputs.parse(LoginForm, await read_form(request))
    outcome = await web_sessions.log_in(
        request[DB],
        login=form.login,
        password=form.password,
        address=client_address(request, container.settings.proxy_networks),
        now=container.company.clock.now(),
    )
    if outcome.token is None:
        return _login_refused(request, form, outcome.error)
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


def _login_refused(
    request: web.Request, form: LoginForm, error: DomainError | None
) -> web.StreamResponse:
    """The login page again with the reason; 429 and Retry-After while the attempt must wait."""
    key = error.key if error else "web.login_wrong"
    values = context(request, error_key=key, error_params=error.params if error else {})
    values["login"] = form.login
    status = error.http_status if isinstance(error, Throttled) else 401
    response = aiohttp_jinja2.render_template("login.html", request, values, status=status)
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.seconds)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    await web_sessions.log_out(request[DB], request.cookies.get(COOKIE))
    response = web.HTTPFound(LOGIN_PATH)
    response.del_cookie(COOKIE, path="/admin")
    raise response


async def lead_page(request: web.Request) -> web.StreamResponse:
    """One lead with its client's timeline; another office's lead is not there for a manager."""
    lead_id = int(request.match_info["lead_id"])
    found = await lead_cards.record(
        request[DB], lead_id, office_id=access.office_limit(request[EMPLOYEE])
    )
    values = context(request, lead=found, me=request[EMPLOYEE])
    return aiohttp_jinja2.render_template("lead.html", request, values)


async def audit_page(request: web.Request) -> web.StreamResponse:
    """Everything the services audited, filtered; admins only (a manager gets a 404)."""
    return await _audit(request, security=False)


async def security_page(request: web.Request) -> web.StreamResponse:
    """Sign-in attempts (succeeded, wrong, made to wait) with the login and address typed."""
    return await _audit(request, security=True)


async def _audit(request: web.Request, *, security: bool) -> web.StreamResponse:
    me = request[EMPLOYEE]
    if not access.can_read_audit(me):
        raise web.HTTPNotFound()  # as for a page that is not there
    query = inputs.parse(inputs.AuditQuery, request.query)
    tz = container_of(request).company.timezone
    shown = audit.AuditFilter(
        action="web.login" if security else query.action,
        actor_id=query.actor,
        **inputs.days(query.since, query.until, tz),
        login=query.login,
        address=query.address,
    )
    found = await audit.page(request[DB], shown, before=query.before)
    values = context(
        request,
        me=me,
        entries=found.entries,
        next_before=found.next_before,
        query=query,
        security=security,
        path="/admin/security" if security else "/admin/audit",
    )
    return aiohttp_jinja2.render_template("audit.html", request, values)


async def password_page(request: web.Request) -> web.StreamResponse:
    values = context(request, me=request[EMPLOYEE])
    return aiohttp_jinja2.render_template("password.html", request, values)


async def change_password(request: web.Request) -> web.StreamResponse:
    """The signed-in employee's own password; their other sign-ins end, this one stays."""
    form = inputs.parse(inputs.PasswordForm, await read_form(request))
    me = request[EMPLOYEE]
    values = context(request, me=me)
    try:
        ended = await web_sessions.change_password(
            request[DB],
            employee_id=me.id,
            current=form.current,
            new=form.new,
            repeated=form.repeated,
            keep=request.cookies.get(COOKIE),
            now=container_of(request).company.clock.now(),
        )
    except DomainError as exc:
        values.update(error_key=exc.key, error_params=exc.params)
        return aiohttp_jinja2.render_template(
            "password.html", request, values, status=exc.http_status
        )
    values.update(done=True, ended=ended)
    return aiohttp_jinja2.render_template("password.html", request, values)


async def call_recording(request: web.Request) -> web.StreamResponse:
    """The recording of a call: the PBX's URL, or a fresh link from Mango for its id."""
    container = container_of(request)
    session = request[DB]
    recording = await calls.recording_of(session, int(request.match_info["call_id"]))
    # End the read before waiting on Mango: on SQLite every transaction holds the write lock.
    await session.commit()
    if recording.url:
        raise web.HTTPFound(recording.url)
    settings = container.settings
    if not (recording.recording_id and settings.mango_api_key and settings.mango_api_salt):
        raise NotFound(
            "the recording is kept at the PBX, which is not configured", key="web.recording_at_pbx"
        )
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
