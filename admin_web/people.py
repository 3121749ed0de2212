"""`/admin/settings/people` (admins only): everyone (add, block, invite) and each person's
page: details, weekly schedule, phone lines, monthly plans (services.people)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import aiohttp_jinja2
from aiohttp import web
from pydantic import StringConstraints

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from admin_web.settings import ID, now_of, path_id
from models import Role
from services import access, employees, people
from web_app import container_of
from webhooks.common import read_form_pairs


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/settings/people", people_page)
    app.router.add_post("/admin/settings/people", add_person)
    app.router.add_post(f"/admin/settings/people/{ID}/active", set_active)
    app.router.add_post(f"/admin/settings/people/{ID}/invite", new_invite)
    app.router.add_get(f"/admin/settings/people/{ID}", person_page)
    app.router.add_post(f"/admin/settings/people/{ID}", edit_person)
    app.router.add_post(f"/admin/settings/people/{ID}/week", set_week)
    app.router.add_post(f"/admin/settings/people/{ID}/lines", add_line)
    app.router.add_post(f"/admin/settings/people/{ID}/plans", set_plan)


class PersonForm(inputs.Input):
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    role: Role = Role.EMPLOYEE
    office: Annotated[str, StringConstraints(max_length=100)] | None = None


class ActiveForm(inputs.Input):
    active: bool = False


async def people_page(request: web.Request) -> web.StreamResponse:
    """Everyone: role, office, Telegram bound (or the invite to bind it), on duty, blocked."""
    me = request[EMPLOYEE]
    if not access.can_edit_settings(me):
        raise web.HTTPNotFound()
    container = container_of(request)
    now, session = container.company.clock.now(), request[DB]
    everyone = await employees.roster(session, now=now, timezone=container.company.timezone)
    invites = await people.open_invites(session, now=now)
    values = context(
        request,
        me=me,
        people=everyone,
        invites={i: await _invite(request, code) for i, code in invites.items()},
        roles=list(Role),
        added=request.query.get("added"),
    )
    return aiohttp_jinja2.render_template("people.html", request, values)


async def _invite(request: web.Request, code: str) -> str:
    """A t.me link when the bot is configured and knows its name; else the /start command."""
    bot = container_of(request).bot
    if bot is not None:
        try:
            me = await asyncio.wait_for(bot.me(), 3)
            return f"https://t.me/{me.username}?start={code}"
        except Exception:  # Telegram unreachable: the command works as well
            pass
    return f"/start {code}"


async def add_person(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(PersonForm, await read_form_pairs(request))
    new = await people.add_as(
        request[DB],
        by=request[EMPLOYEE],
        name=form.name,
        role=form.role,
        office=(form.office or "").strip() or None,
        now=now_of(request),
    )
    raise web.HTTPFound(f"/admin/settings/people?added={new.id}")


async def set_active(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(ActiveForm, await read_form_pairs(request))
    await people.set_active_as(
        request[DB],
        path_id(request),
        form.active,
        by=request[EMPLOYEE],
        company=container_of(request).company,
    )
    raise web.HTTPFound("/admin/settings/people")


async def new_invite(request: web.Request) -> web.StreamResponse:
    await people.new_invite(
        request[DB], path_id(request), by=request[EMPLOYEE], now=now_of(request)
    )
    raise web.HTTPFound(f"/admin/settings/people?added={path_id(request)}")


Text = Annotated[str, StringConstraints(max_length=200)]


class EditForm(inputs.Input):
    """An employee's details as the person page sends them: each field is set to what it
    says ("" clears the phone, extension or office)."""

    name: Text = ""
    role: Role = Role.EMPLOYEE
    office: Text = ""
    phone: Annotated[str, StringConstraints(max_length=40)] = ""
    extension: Annotated[str, StringConstraints(max_length=20)] = ""


class WeekForm(inputs.Input):
    """Each weekday's shifts, "09:00-13:00, 14:00-18:00" (day_0 is Monday)."""

    day_0: Text = ""
    day_1: Text = ""
    day_2: Text = ""
    day_3: Text = ""
    day_4: Text = ""
    day_5: Text = ""
    day_6: Text = ""


class LineForm(inputs.Input):
    number: Annotated[str, StringConstraints(max_length=40)] = ""
    name: Text = ""
    source: Annotated[str, StringConstraints(max_length=100)] | None = None


class PlanForm(inputs.Input):
    month: Annotated[str, StringConstraints(max_length=7)] = ""
    amount: Annotated[str, StringConstraints(max_length=30)] = ""


async def person_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    found = await people.person(request[DB], path_id(request), by=me)
    today = (
        container_of(request).company.clock.now().astimezone(container_of(request).company.timezone)
    )
    values = context(
        request,
        me=me,
        p=found,
        roles=list(Role),
        weekdays=range(7),
        this_month=f"{today:%Y-%m}",
        saved=request.query.get("saved"),
    )
    return aiohttp_jinja2.render_template("person.html", request, values)


def _saved(request: web.Request, what: str) -> web.HTTPFound:
    return web.HTTPFound(f"/admin/settings/people/{path_id(request)}?saved={what}")


async def edit_person(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(EditForm, await read_form_pairs(request))
    changes = employees.Changes(
        name=form.name,
        role=form.role,
        phone=form.phone,
        extension=form.extension,
        office=form.office,
    )
    company = container_of(request).company
    await people.edit(request[DB], path_id(request), changes, by=request[EMPLOYEE], company=company)
    raise _saved(request, "details")


async def set_week(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(WeekForm, await read_form_pairs(request))
    week = {day: getattr(form, f"day_{day}") for day in range(7)}
    await people.set_week(
        request[DB], path_id(request), week, by=request[EMPLOYEE], now=now_of(request)
    )
    raise _saved(request, "week")


async def add_line(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(LineForm, await read_form_pairs(request))
    await people.add_line(
        request[DB],
        path_id(request),
        number=form.number,
        name=form.name,
        source=form.source,
        by=request[EMPLOYEE],
        company=container_of(request).company,
    )
    raise _saved(request, "line")


async def set_plan(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(PlanForm, await read_form_pairs(request))
    await people.set_plan(
        request[DB],
        path_id(request),
        form.month,
        form.amount,
        by=request[EMPLOYEE],
        now=now_of(request),
    )
    raise _saved(request, "plan")
