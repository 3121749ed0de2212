"""`/admin/settings/stages`: the pipelines' stages (admins only): rename, add, move up and
down; won and lost stay last (services.deals.stage_edits)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import aiohttp_jinja2
from aiohttp import web

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from services import access
from services.actors import Actor
from services.deals import stage_edits
from web_app import container_of
from webhooks.common import read_form_pairs

ID = "{id:\\d{1,18}}"


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/settings/stages", stages_page)
    app.router.add_post(f"/admin/settings/stages/{ID}/rename", rename)
    app.router.add_post(f"/admin/settings/stages/{ID}/move", move)
    app.router.add_post(f"/admin/settings/pipelines/{ID}/stages", add)


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
