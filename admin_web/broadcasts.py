"""`/admin/broadcasts`: choose a segment and see its size (who gets it, who does not and
why), write the text (and the WhatsApp template for clients outside the 24-hour window),
start, and watch the progress (services.broadcasts)."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

import aiohttp_jinja2
from aiohttp import web
from pydantic import StringConstraints

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from models import Channel
from services import access, broadcasts
from services.actors import Actor
from services.deals import lists as deal_lists
from web_app import container_of
from webhooks.common import read_form_pairs

Short = Annotated[str, StringConstraints(max_length=200)]


class SegmentQuery(inputs.Input):
    """A segment as the form gives it, and the template chosen (it changes who can get it)."""

    channel: Literal["whatsapp", "telegram"] = "whatsapp"
    tags: Short | None = None  # comma-separated: any of them
    stage: inputs.Id | None = None
    source: Annotated[str, StringConstraints(max_length=100)] | None = None
    contacted_since: inputs.Day | None = None
    quiet_since: inputs.Day | None = None
    template: Short | None = None
    count: bool = False  # the size was asked for

    @property
    def chosen_template(self) -> str | None:
        """The template, on the channel that has them (a Telegram broadcast sends text)."""
        return self.template if self.channel == Channel.WHATSAPP else None

    def segment(self, request: web.Request) -> broadcasts.Segment:
        tz = container_of(request).company.timezone
        tags = tuple(dict.fromkeys(t.strip() for t in (self.tags or "").split(",") if t.strip()))
        return broadcasts.Segment(
            Channel(self.channel),
            tags=tags,
            stage_id=self.stage,
            source=self.source,
            contacted_since=inputs.days(self.contacted_since, None, tz)["since"],
            quiet_since=inputs.days(self.quiet_since, None, tz)["since"],
            office_id=access.office_limit(request[EMPLOYEE]),
        )


class StartForm(SegmentQuery):
    text: Annotated[str, StringConstraints(max_length=broadcasts.TEXT_LIMIT)] = ""
    # the count page's one-time key: a double press starts one broadcast
    key: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/broadcasts", broadcasts_page)
    app.router.add_get("/admin/broadcasts/new", new_page)
    app.router.add_post("/admin/broadcasts", start)
    app.router.add_get("/admin/broadcasts/{broadcast_id:\\d{1,18}}", broadcast_page)


async def broadcasts_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    found = await broadcasts.recent(request[DB], by=Actor.of(me))
    return aiohttp_jinja2.render_template(
        "broadcasts.html", request, context(request, me=me, broadcasts=found)
    )


async def new_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    access.require_bulk(me)
    query = inputs.parse(SegmentQuery, request.query)
    session = request[DB]
    sizes = None
    if query.count:
        sizes = await broadcasts.size(
            session,
            query.segment(request),
            has_template=bool(query.chosen_template),
            now=container_of(request).company.clock.now(),
        )
    choices = await deal_lists.choices(session, office_id=access.office_limit(me))
    values = context(
        request,
        me=me,
        query=query,
        sizes=sizes,
        stages=choices.stages,
        sources=await broadcasts.lead_sources(session),
        templates=broadcasts.templates(Channel.WHATSAPP),
        limit=broadcasts.TEXT_LIMIT,
        key=secrets.token_hex(16),
    )
    return aiohttp_jinja2.render_template("broadcast_new.html", request, values)


async def start(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    form = inputs.parse(StartForm, await read_form_pairs(request))
    draft = broadcasts.Draft(form.segment(request), form.text, form.chosen_template, form.key)
    container = container_of(request)
    broadcast_id = await broadcasts.start(
        request[DB], draft, by=Actor.of(me), company=container.company
    )
    raise web.HTTPFound(f"/admin/broadcasts/{broadcast_id}")


async def broadcast_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    broadcast_id = int(request.match_info["broadcast_id"])
    found = await broadcasts.view(request[DB], broadcast_id, by=Actor.of(me))
    return aiohttp_jinja2.render_template(
        "broadcast.html", request, context(request, me=me, b=found)
    )
