"""`/admin/deals` and `/admin/bulk/…`: the deal list, and giving many deals to someone else at
once: counted on one page, applied by the next (one transaction), shown with an Undo button
that works for 24 hours. The rules live in services.bulk; these views read inputs and render.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

import aiohttp_jinja2
from aiohttp import web

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from models import DealStatus
from services import access, bulk
from services.actors import Actor
from services.deals import lists
from services.errors import InvalidInput
from web_app import container_of
from webhooks.common import read_form


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/deals", deals_page)
    app.router.add_get("/admin/deals/reassign", reassign_plan)
    app.router.add_post("/admin/deals/reassign", reassign)
    app.router.add_get("/admin/bulk", operations_page)
    app.router.add_get("/admin/bulk/{op_id:\\d{1,18}}", operation_page)
    app.router.add_post("/admin/bulk/{op_id:\\d{1,18}}/undo", undo)


def _filter(request: web.Request, query: inputs.DealsQuery) -> lists.DealFilter:
    tz = container_of(request).company.timezone
    ids = None
    if isinstance(query, inputs.DealsReassign) and query.scope == "selected":
        ids = query.id
    return lists.DealFilter(
        owner_id=query.owner,
        office_id=access.office_limit(request[EMPLOYEE]) or query.office,
        stage_id=query.stage,
        status=query.status,
        since=_midnight(query.since, tz) if query.since else None,
        until=_midnight(query.until + timedelta(days=1), tz) if query.until else None,
        text=query.q,
        ids=ids,
    )


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


async def deals_page(request: web.Request) -> web.StreamResponse:
    query = inputs.parse(inputs.DealsQuery, request.query)
    me = request[EMPLOYEE]
    if not access.can_change_in_bulk(me):
        raise web.HTTPNotFound()
    session = request[DB]
    found = await lists.page(session, _filter(request, query), sort=query.sort, after=query.after)
    values = context(
        request,
        me=me,
        deals=found.rows,
        next_after=found.next_after,
        query=query,
        choices=await lists.choices(session, office_id=access.office_limit(me)),
        sorts=list(lists.DealSort),
        statuses=list(DealStatus),
    )
    return aiohttp_jinja2.render_template("deals.html", request, values)


async def reassign_plan(request: web.Request) -> web.StreamResponse:
    """What the reassign would do, counted; a form to apply exactly that."""
    form = _reassign_input(inputs.parse(inputs.DealsReassign, request.query))
    assert form.to is not None
    me = request[EMPLOYEE]
    plan = await bulk.plan_reassign(
        request[DB], _filter(request, form), to=form.to, with_tasks=form.tasks, by=Actor.of(me)
    )
    values = context(request, me=me, plan=plan, form=form, ids=form.id)
    return aiohttp_jinja2.render_template("bulk_plan.html", request, values)


async def reassign(request: web.Request) -> web.StreamResponse:
    form = _reassign_input(inputs.parse(inputs.DealsReassign, await read_form(request)))
    assert form.to is not None
    if form.expected is None:
        raise InvalidInput("no count", key="web.bad_input", fields="expected")
    container = container_of(request)
    op_id = await bulk.reassign(
        request[DB],
        _filter(request, form),
        to=form.to,
        with_tasks=form.tasks,
        expected=form.expected,
        by=Actor.of(request[EMPLOYEE]),
        company=container.company,
    )
    raise web.HTTPFound(f"/admin/bulk/{op_id}")


def _reassign_input(form: inputs.DealsReassign) -> inputs.DealsReassign:
    if form.to is None:
        raise InvalidInput("whom to", key="bulk.choose_whom")
    if form.scope == "selected" and not form.id:
        raise InvalidInput("nothing ticked", key="bulk.choose")
    return form


async def operations_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    if not access.can_change_in_bulk(me):
        raise web.HTTPNotFound()
    found = await bulk.recent(request[DB], by=Actor.of(me))
    now = container_of(request).company.clock.now()
    values = context(request, me=me, operations=found, now=now)
    return aiohttp_jinja2.render_template("bulk_list.html", request, values)


async def operation_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    op = await bulk.operation(request[DB], int(request.match_info["op_id"]), by=Actor.of(me))
    now = container_of(request).company.clock.now()
    values = context(request, me=me, op=op, now=now)
    return aiohttp_jinja2.render_template("bulk_operation.html", request, values)


async def undo(request: web.Request) -> web.StreamResponse:
    op_id = int(request.match_info["op_id"])
    container = container_of(request)
    await bulk.undo(request[DB], op_id, by=Actor.of(request[EMPLOYEE]), company=container.company)
    raise web.HTTPFound(f"/admin/bulk/{op_id}")
