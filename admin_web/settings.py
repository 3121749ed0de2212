"""`/admin/settings/stages`: the pipelines' stages (admins only): rename, add, move up and
down; won and lost stay last (services.deals.stage_edits)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

import aiohttp_jinja2
from aiohttp import web
from pydantic import StringConstraints

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from models import Role
from services import access, employees
from services.actors import Actor
from services.deals import stage_edits
from web_app import container_of
from webhooks.common import read_form_pairs

ID = "{id:\\d{1,18}}"


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/settings/people", people_page)
    app.router.add_post("/admin/settings/people", add_person)
    app.router.add_post(f"/admin/settings/people/{ID}/active", set_active)
    app.router.add_post(f"/admin/settings/people/{ID}/invite", new_invite)
    app.router.add_get("/admin/settings/stages", stages_page)
    app.router.add_post(f"/admin/settings/stages/{ID}/rename", rename)
    app.router.add_post(f"/admin/settings/stages/{ID}/move", move)
    app.router.add_post(f"/admin/settings/pipelines/{ID}/stages", add)


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
    people = await employees.roster(session, now=now, timezone=container.company.timezone)
    invites = await employees.open_invites(session, now=now)
    values = context(
        request,
        me=me,
        people=people,
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
    new = await employees.add_as(
        request[DB],
        by=request[EMPLOYEE],
        name=form.name,
        role=form.role,
        office=(form.office or "").strip() or None,
        now=_now(request),
    )
    raise web.HTTPFound(f"/admin/settings/people?added={new.id}")


async def set_active(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(ActiveForm, await read_form_pairs(request))
    await employees.set_active_as(
        request[DB],
        _id(request),
        form.active,
        by=request[EMPLOYEE],
        company=container_of(request).company,
    )
    raise web.HTTPFound("/admin/settings/people")


async def new_invite(request: web.Request) -> web.StreamResponse:
    await employees.new_invite(request[DB], _id(request), by=request[EMPLOYEE], now=_now(request))
    raise web.HTTPFound(f"/admin/settings/people?added={_id(request)}")


class NameForm(inputs.Input):
    name: str = ""


class MoveForm(inputs.Input):
    direction: Literal["up", "down"] = "up"


async def stages_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    if not access.can_edit_settings(me):
        raise web.HTTPNotFound()
    found = await stage_edits.every(request[DB], by=Actor.of(me))
    values = context(request, me=me, pipelines=found)
    return aiohttp_jinja2.render_template("stages.html", request, values)


async def rename(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(NameForm, await read_form_pairs(request))
    await stage_edits.rename(
        request[DB], _id(request), form.name, by=_by(request), now=_now(request)
    )
    raise web.HTTPFound("/admin/settings/stages")


async def move(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(MoveForm, await read_form_pairs(request))
    step = -1 if form.direction == "up" else 1
    await stage_edits.move(request[DB], _id(request), step, by=_by(request), now=_now(request))
    raise web.HTTPFound("/admin/settings/stages")


async def add(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(NameForm, await read_form_pairs(request))
    await stage_edits.add(request[DB], _id(request), form.name, by=_by(request), now=_now(request))
    raise web.HTTPFound("/admin/settings/stages")


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _by(request: web.Request) -> Actor:
    return Actor.of(request[EMPLOYEE])


def _now(request: web.Request) -> datetime:
    return container_of(request).company.clock.now()
