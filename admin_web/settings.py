"""Settings pages (admins only; the people's are admin_web.people):
`/admin/settings/offices`: offices with their time zones (services.offices);
`/admin/settings/company`: auto-reply, WhatsApp templates, escalation thresholds, ticket
categories (services.company_settings);
`/admin/settings/stages`: the pipelines' stages: rename, add, move up and down; won and lost
stay last (services.deals.stage_edits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import aiohttp_jinja2
from aiohttp import web
from pydantic import Field, StringConstraints

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from services import access, company_settings, offices
from services.actors import Actor
from services.deals import stage_edits
from web_app import container_of
from webhooks.common import read_form_pairs

ID = "{id:\\d{1,18}}"


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/settings/offices", offices_page)
    app.router.add_post("/admin/settings/offices", add_office)
    app.router.add_post(f"/admin/settings/offices/{ID}", change_office)
    app.router.add_get("/admin/settings/company", company_page)
    app.router.add_post("/admin/settings/company", save_company)
    app.router.add_get("/admin/settings/stages", stages_page)
    app.router.add_post(f"/admin/settings/stages/{ID}/rename", rename)
    app.router.add_post(f"/admin/settings/stages/{ID}/move", move)
    app.router.add_post(f"/admin/settings/pipelines/{ID}/stages", add)


class OfficeForm(inputs.Input):
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None


# Offered as the time zone field's suggestions (any IANA name is taken).
ZONES = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
    "Europe/Minsk",
    "Asia/Almaty",
    "Asia/Tashkent",
)


async def offices_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    found = await offices.every(request[DB], by=me)
    company = container_of(request).company
    values = context(request, me=me, offices=found, zones=ZONES, company_zone=str(company.timezone))
    return aiohttp_jinja2.render_template("offices.html", request, values)


async def add_office(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(OfficeForm, await read_form_pairs(request))
    await offices.add(
        request[DB], form.name, form.timezone, by=request[EMPLOYEE], now=now_of(request)
    )
    raise web.HTTPFound("/admin/settings/offices")


async def change_office(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(OfficeForm, await read_form_pairs(request))
    await offices.change(
        request[DB],
        path_id(request),
        form.name,
        form.timezone,
        by=request[EMPLOYEE],
        now=now_of(request),
    )
    raise web.HTTPFound("/admin/settings/offices")


Minutes = Annotated[int, Field(ge=-(10**9), le=10**9)]


class CompanyForm(inputs.Input):
    auto_reply: Annotated[str, StringConstraints(max_length=5000)] = ""
    whatsapp_templates: Annotated[str, StringConstraints(max_length=20000)] = ""
    ticket_categories: Annotated[str, StringConstraints(max_length=5000)] = ""
    task_minutes: Minutes | None = None
    response_minutes: Minutes | None = None
    deal_days: Minutes | None = None
    ticket_minutes: Minutes | None = None


async def company_page(request: web.Request) -> web.StreamResponse:
    """What is in force (the saved settings read first, so the page shows them at once)."""
    me = request[EMPLOYEE]
    if not access.can_edit_settings(me):
        raise web.HTTPNotFound()
    company = container_of(request).company
    await company_settings.refresh(request[DB], company)
    values = context(
        request,
        me=me,
        now=company_settings.current(company),
        bounds=company_settings.BOUNDS,
        saved=request.query.get("saved"),
    )
    return aiohttp_jinja2.render_template("company.html", request, values)


async def save_company(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(CompanyForm, await read_form_pairs(request))
    new = company_settings.checked(
        auto_reply=form.auto_reply,
        whatsapp_templates=form.whatsapp_templates,
        ticket_categories=form.ticket_categories,
        escalations={
            name: value
            for name in company_settings.BOUNDS
            if (value := getattr(form, name)) is not None
        },
    )
    company = container_of(request).company
    await company_settings.save(
        request[DB], new, by=request[EMPLOYEE], company=company, now=now_of(request)
    )
    raise web.HTTPFound("/admin/settings/company?saved=1")


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
        request[DB], path_id(request), form.name, by=_by(request), now=now_of(request)
    )
    raise web.HTTPFound("/admin/settings/stages")


async def move(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(MoveForm, await read_form_pairs(request))
    step = -1 if form.direction == "up" else 1
    await stage_edits.move(
        request[DB], path_id(request), step, by=_by(request), now=now_of(request)
    )
    raise web.HTTPFound("/admin/settings/stages")


async def add(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(NameForm, await read_form_pairs(request))
    await stage_edits.add(
        request[DB], path_id(request), form.name, by=_by(request), now=now_of(request)
    )
    raise web.HTTPFound("/admin/settings/stages")


def path_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _by(request: web.Request) -> Actor:
    return Actor.of(request[EMPLOYEE])


def now_of(request: web.Request) -> datetime:
    return container_of(request).company.clock.now()
