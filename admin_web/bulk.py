"""`/admin/deals`, `/admin/clients` and `/admin/bulk/…`: the lists made for work on many
records, and giving many of them to someone else at once: counted on one page, applied by the
next (one transaction), shown with an Undo button that works for 24 hours. The rules live in
services.bulk and the lists' services; these views read inputs and render."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web import exports, inputs
from admin_web.edge import DB, EMPLOYEE, context
from models import CallStatus, DealStatus, Direction, TaskStatus, TicketStatus
from services import access, bulk, listing
from services.actors import Actor
from services.calls import table as call_table
from services.clients import lists as client_lists
from services.deals import LOST_REASONS
from services.deals import lists as deal_lists
from services.errors import InvalidInput
from services.tasks import table as task_table
from services.tickets import table as ticket_table
from web_app import container_of
from webhooks.common import read_form_pairs


@dataclass(frozen=True)
class Listed:
    """One list made for bulk work: its page, its inputs, and its services."""

    kind: str  # services.bulk.kinds name
    path: str
    template: str
    query: type[inputs.Input]
    reassign: type[inputs.Reassign] | None  # None: a list to read and export only
    tasks: type[inputs.TaskForEach] | None  # a task for each (deals and clients)
    chosen: Callable[[web.Request, Any], Any]  # inputs → the services' filter
    page: Callable[..., Awaitable[listing.Page[Any]]]
    sorts: tuple[Any, ...]
    plan: Callable[..., Awaitable[bulk.Plan]] | None = None
    apply: Callable[..., Awaitable[int]] | None = None


def setup(app: web.Application) -> None:
    for listed in (DEALS, CLIENTS, TASKS, CALLS, TICKETS):
        app.router.add_get(listed.path, _list_view(listed))
        app.router.add_get(f"{listed.path}/export", exports.export_view(listed))
        if listed.reassign is not None:
            app.router.add_get(f"{listed.path}/reassign", _plan_view(listed))
            app.router.add_post(f"{listed.path}/reassign", _apply_view(listed))
        if listed.tasks is not None:
            app.router.add_get(f"{listed.path}/tasks", _tasks_plan_view(listed))
            app.router.add_post(f"{listed.path}/tasks", _tasks_apply_view(listed))
    app.router.add_get("/admin/deals/{deal_id:\\d{1,18}}", deal_page)
    app.router.add_get("/admin/clients/{client_id:\\d{1,18}}", client_page)
    app.router.add_get("/admin/deals/move", move_plan)
    app.router.add_post("/admin/deals/move", move)
    app.router.add_get("/admin/bulk", operations_page)
    app.router.add_get("/admin/bulk/{op_id:\\d{1,18}}", operation_page)
    app.router.add_post("/admin/bulk/{op_id:\\d{1,18}}/undo", undo)


def _days(request: web.Request, since: date | None, until: date | None) -> dict[str, Any]:
    tz = container_of(request).company.timezone
    return {
        "since": _midnight(since, tz) if since else None,
        "until": _midnight(until + timedelta(days=1), tz) if until else None,
    }


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _ticked(query: Any) -> tuple[int, ...] | None:
    bulk_form = inputs.Reassign | inputs.DealsMove | inputs.TaskForEach
    chosen = isinstance(query, bulk_form) and query.scope == "selected"
    return query.id if chosen else None


def _deal_filter(request: web.Request, query: inputs.DealsQuery) -> deal_lists.DealFilter:
    return deal_lists.DealFilter(
        owner_id=query.owner,
        office_id=access.office_limit(request[EMPLOYEE]) or query.office,
        stage_id=query.stage,
        status=query.status,
        text=query.q,
        ids=_ticked(query),
        **_days(request, query.since, query.until),
    )


def _client_filter(request: web.Request, query: inputs.ClientsQuery) -> client_lists.ClientFilter:
    return client_lists.ClientFilter(
        owner_id=query.owner,
        office_id=access.office_limit(request[EMPLOYEE]) or query.office,
        tag=query.tag,
        text=query.q,
        ids=_ticked(query),
        **_days(request, query.since, query.until),
    )


DEALS = Listed(
    "deal",
    "/admin/deals",
    "deals.html",
    inputs.DealsQuery,
    inputs.DealsReassign,
    inputs.DealsTasks,
    _deal_filter,
    deal_lists.page,
    tuple(deal_lists.DealSort),
    bulk.plan_reassign,
    bulk.reassign,
)
CLIENTS = Listed(
    "client",
    "/admin/clients",
    "clients.html",
    inputs.ClientsQuery,
    inputs.ClientsReassign,
    inputs.ClientsTasks,
    _client_filter,
    client_lists.page,
    tuple(client_lists.ClientSort),
    bulk.plan_reassign,
    bulk.reassign,
)


def _task_filter(request: web.Request, query: inputs.TasksQuery) -> task_table.TaskFilter:
    return task_table.TaskFilter(
        assignee_id=query.assignee,
        office_id=access.office_limit(request[EMPLOYEE]) or query.office,
        status=query.status,
        overdue_at=container_of(request).company.clock.now() if query.overdue else None,
        text=query.q,
        ids=_ticked(query),
        **_days(request, query.since, query.until),
    )


TASKS = Listed(
    "task",
    "/admin/tasks",
    "tasks.html",
    inputs.TasksQuery,
    inputs.TasksReassign,
    None,
    _task_filter,
    task_table.page,
    tuple(task_table.TaskSort),
    bulk.plan_reassign,
    bulk.reassign,
)


def _call_filter(request: web.Request, query: inputs.CallsQuery) -> call_table.CallFilter:
    return call_table.CallFilter(
        employee_id=query.employee,
        office_id=access.office_limit(request[EMPLOYEE]) or query.office,
        direction=query.direction,
        status=query.status,
        digits=query.q,
        **_days(request, query.since, query.until),
    )


def _ticket_filter(request: web.Request, query: inputs.TicketsQuery) -> ticket_table.TicketFilter:
    return ticket_table.TicketFilter(
        status=query.status,
        category=query.category,
        assignee_id=query.assignee,
        office_id=access.office_limit(request[EMPLOYEE]) or query.office,
        text=query.q,
        **_days(request, query.since, query.until),
    )


CALLS = Listed(
    "call",
    "/admin/calls",
    "calls.html",
    inputs.CallsQuery,
    None,
    None,
    _call_filter,
    call_table.page,
    tuple(call_table.CallSort),
)
TICKETS = Listed(
    "ticket",
    "/admin/tickets",
    "tickets.html",
    inputs.TicketsQuery,
    None,
    None,
    _ticket_filter,
    ticket_table.page,
    tuple(ticket_table.TicketSort),
)


def _list_view(listed: Listed) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def view(request: web.Request) -> web.StreamResponse:
        query: Any = inputs.parse(listed.query, request.query)
        me = request[EMPLOYEE]
        if not access.can_change_in_bulk(me):
            raise web.HTTPNotFound()
        session = request[DB]
        shown = listed.chosen(request, query)
        found = await listed.page(session, shown, sort=query.sort, after=query.after)
        values = context(
            request,
            me=me,
            rows=found.rows,
            next_after=found.next_after,
            query=query,
            listed=listed,
            carried=list(bulk.CARRIED.get(listed.kind, {})),
            choices=await deal_lists.choices(session, office_id=access.office_limit(me)),
            sorts=listed.sorts,
            statuses=list(DealStatus),
            reasons=LOST_REASONS,
            task_statuses=list(TaskStatus),
            call_statuses=list(CallStatus),
            directions=[Direction.IN, Direction.OUT],
            ticket_statuses=list(TicketStatus),
            now=container_of(request).company.clock.now(),
        )
        return aiohttp_jinja2.render_template(listed.template, request, values)

    return view


def _plan_view(listed: Listed) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def view(request: web.Request) -> web.StreamResponse:
        """What the reassign would do, counted; a form to apply exactly that."""
        form: Any = _reassign_input(inputs.parse(listed.reassign, request.query))
        me = request[EMPLOYEE]
        assert listed.plan is not None  # lists with a reassign form have both
        plan = await listed.plan(
            request[DB],
            listed.chosen(request, form),
            to=form.to,
            carry=form.carry,
            by=Actor.of(me),
        )
        values = context(request, me=me, plan=plan, form=form, listed=listed, order=bulk.ORDER)
        return aiohttp_jinja2.render_template("bulk_plan.html", request, values)

    return view


def _apply_view(listed: Listed) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def view(request: web.Request) -> web.StreamResponse:
        form: Any = _reassign_input(inputs.parse(listed.reassign, await read_form_pairs(request)))
        if form.expected is None:
            raise InvalidInput("no count", key="web.bad_input", fields="expected")
        assert listed.apply is not None
        op_id = await listed.apply(
            request[DB],
            listed.chosen(request, form),
            to=form.to,
            carry=form.carry,
            expected=form.expected,
            by=Actor.of(request[EMPLOYEE]),
            company=container_of(request).company,
        )
        raise web.HTTPFound(f"/admin/bulk/{op_id}")

    return view


def _reassign_input(form: inputs.Reassign) -> inputs.Reassign:
    if form.to is None:
        raise InvalidInput("whom to", key="bulk.choose_whom")
    if form.scope == "selected" and not form.id:
        raise InvalidInput("nothing ticked", key="bulk.choose")
    return form


def _tasks_plan_view(listed: Listed) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def view(request: web.Request) -> web.StreamResponse:
        """How many tasks, for how many people, counted; a form to write exactly those."""
        form: Any = _tasks_input(request, inputs.parse(listed.tasks, request.query))
        me = request[EMPLOYEE]
        plan = await bulk.plan_tasks(
            request[DB], listed.chosen(request, form), assignee_id=form.assignee, by=Actor.of(me)
        )
        values = context(request, me=me, plan=plan, form=form, listed=listed)
        return aiohttp_jinja2.render_template("bulk_tasks_plan.html", request, values)

    return view


def _tasks_apply_view(listed: Listed) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def view(request: web.Request) -> web.StreamResponse:
        form: Any = _tasks_input(
            request, inputs.parse(listed.tasks, await read_form_pairs(request))
        )
        if form.expected is None:
            raise InvalidInput("no count", key="web.bad_input", fields="expected")
        op_id = await bulk.task_for_each(
            request[DB],
            listed.chosen(request, form),
            title=form.title,
            due_at=_local(request, form.due),
            assignee_id=form.assignee,
            expected=form.expected,
            by=Actor.of(request[EMPLOYEE]),
            company=container_of(request).company,
        )
        raise web.HTTPFound(f"/admin/bulk/{op_id}")

    return view


def _tasks_input(request: web.Request, form: inputs.TaskForEach) -> inputs.TaskForEach:
    if not (form.title or "").strip():
        raise InvalidInput("no title", key="bulk.task_title_needed")
    if form.due is None:
        raise InvalidInput("no due time", key="bulk.task_due_needed")
    if form.scope == "selected" and not form.id:
        raise InvalidInput("nothing ticked", key="bulk.choose")
    _local(request, form.due)
    return form


def _local(request: web.Request, due: datetime | None) -> datetime:
    """A datetime-local field's value in the company's zone (an aware one as it is)."""
    assert due is not None
    if due.tzinfo is not None:
        return due
    return due.replace(tzinfo=container_of(request).company.timezone)


async def deal_page(request: web.Request) -> web.StreamResponse:
    """One deal with its client's timeline; another office's is not there for a manager."""
    me = request[EMPLOYEE]
    if not access.can_change_in_bulk(me):
        raise web.HTTPNotFound()
    found = await deal_lists.record(
        request[DB], int(request.match_info["deal_id"]), office_id=access.office_limit(me)
    )
    values = context(request, me=me, deal=found)
    return aiohttp_jinja2.render_template("deal.html", request, values)


async def client_page(request: web.Request) -> web.StreamResponse:
    """One client: contacts, tags, and the timeline; another office's is not there."""
    me = request[EMPLOYEE]
    if not access.can_change_in_bulk(me):
        raise web.HTTPNotFound()
    found = await client_lists.record(
        request[DB], int(request.match_info["client_id"]), office_id=access.office_limit(me)
    )
    values = context(request, me=me, client=found)
    return aiohttp_jinja2.render_template("client.html", request, values)


async def move_plan(request: web.Request) -> web.StreamResponse:
    """How many deals would move to the stage, counted; a form to apply exactly that."""
    form = _move_input(inputs.parse(inputs.DealsMove, request.query))
    assert form.to_stage is not None
    me = request[EMPLOYEE]
    plan = await bulk.plan_move(
        request[DB], _deal_filter(request, form), stage_id=form.to_stage, by=Actor.of(me)
    )
    values = context(request, me=me, plan=plan, form=form, reasons=LOST_REASONS)
    return aiohttp_jinja2.render_template("bulk_move_plan.html", request, values)


async def move(request: web.Request) -> web.StreamResponse:
    form = _move_input(inputs.parse(inputs.DealsMove, await read_form_pairs(request)))
    assert form.to_stage is not None
    if form.expected is None:
        raise InvalidInput("no count", key="web.bad_input", fields="expected")
    op_id = await bulk.move_deals(
        request[DB],
        _deal_filter(request, form),
        stage_id=form.to_stage,
        reason=form.reason,
        reason_text=form.reason_text,
        expected=form.expected,
        by=Actor.of(request[EMPLOYEE]),
        company=container_of(request).company,
    )
    raise web.HTTPFound(f"/admin/bulk/{op_id}")


def _move_input(form: inputs.DealsMove) -> inputs.DealsMove:
    if form.to_stage is None:
        raise InvalidInput("which stage", key="bulk.choose_stage")
    if form.scope == "selected" and not form.id:
        raise InvalidInput("nothing ticked", key="bulk.choose")
    return form


async def operations_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    if not access.can_change_in_bulk(me):
        raise web.HTTPNotFound()
    found = await bulk.recent(request[DB], by=Actor.of(me))
    now = container_of(request).company.clock.now()
    values = context(request, me=me, operations=found, now=now, order=bulk.ORDER)
    return aiohttp_jinja2.render_template("bulk_list.html", request, values)


async def operation_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    op = await bulk.operation(request[DB], int(request.match_info["op_id"]), by=Actor.of(me))
    now = container_of(request).company.clock.now()
    values = context(request, me=me, op=op, now=now, order=bulk.ORDER)
    return aiohttp_jinja2.render_template("bulk_operation.html", request, values)


async def undo(request: web.Request) -> web.StreamResponse:
    op_id = int(request.match_info["op_id"])
    container = container_of(request)
    await bulk.undo(request[DB], op_id, by=Actor.of(request[EMPLOYEE]), company=container.company)
    raise web.HTTPFound(f"/admin/bulk/{op_id}")
