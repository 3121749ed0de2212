"""`/admin/deals`, `/admin/clients`, `/admin/tasks`, `/admin/calls`, `/admin/tickets`: the lists
made for work on many records (filters, sort, keyset pages, export) and the record pages of
deals and clients. Each list is one `Listed`: its inputs, its service, and, where it has them,
its bulk actions (admin_web.bulk)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web import exports, inputs
from admin_web.edge import DB, EMPLOYEE, context
from models import CallStatus, DealStatus, Direction, LeadStatus, TaskStatus, TicketStatus
from services import access, bulk, listing
from services.calls import table as call_table
from services.clients import lists as client_lists
from services.deals import LOST_REASONS
from services.deals import lists as deal_lists
from services.leads import reasons
from services.leads import table as lead_table
from services.tasks import table as task_table
from services.tickets import table as ticket_table
from web_app import container_of


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/", _list_view(LEADS))
    for listed in LISTS:
        app.router.add_get(listed.path, _list_view(listed))
        app.router.add_get(f"{listed.path}/export", exports.export_view(listed))
    app.router.add_get("/admin/deals/{deal_id:\\d{1,18}}", deal_page)
    app.router.add_get("/admin/clients/{client_id:\\d{1,18}}", client_page)


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


def _days(request: web.Request, since: date | None, until: date | None) -> dict[str, Any]:
    return inputs.days(since, until, container_of(request).company.timezone)


def _ticked(query: Any) -> tuple[int, ...] | None:
    """A bulk form's ticked rows (None: all that match); a plain list shows all."""
    return query.ticked() if isinstance(query, inputs.Ticked) else None


def lead_filter(request: web.Request, query: inputs.LeadsQuery) -> lead_table.LeadFilter:
    """The lead list's filters (`/admin/`), within a manager's office."""
    return lead_table.LeadFilter(
        status=query.status,
        source=query.source,
        assignee_id=query.assignee,
        text=query.q,
        office_id=access.office_limit(request[EMPLOYEE]) or query.office,
        ids=_ticked(query),
        **_days(request, query.since, query.until),
    )


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
            can_delete=access.can_delete_in_bulk(me),
            choices=await deal_lists.choices(session, office_id=access.office_limit(me)),
            sorts=listed.sorts,
            statuses=list(DealStatus),
            reasons=LOST_REASONS,
            task_statuses=list(TaskStatus),
            call_statuses=list(CallStatus),
            directions=[Direction.IN, Direction.OUT],
            ticket_statuses=list(TicketStatus),
            lead_statuses=list(LeadStatus),
            marks=reasons.BY_STATUS,
            now=container_of(request).company.clock.now(),
        )
        return aiohttp_jinja2.render_template(listed.template, request, values)

    return view


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


LEADS = Listed(
    "lead",
    "/admin/leads",  # also the start page, `/admin/`
    "leads.html",
    inputs.LeadsQuery,
    inputs.LeadsReassign,
    None,
    lead_filter,
    lead_table.page,
    tuple(lead_table.LeadSort),
    bulk.plan_reassign,
    bulk.reassign,
)


LISTS = (LEADS, DEALS, CLIENTS, TASKS, CALLS, TICKETS)
