"""The bulk actions of the lists (admin_web.lists) and `/admin/bulk/…`: giving records to
someone else, moving deals to a stage, a task for each, closing tasks, marking new leads
non-target or spam, deleting deals, tasks or clients; counted on one page,
applied by the next (one transaction), shown with an Undo button that works for 24 hours. The
rules live in services.bulk; these views read inputs and render."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from admin_web.lists import LISTS, Listed, _client_filter, _deal_filter, _task_filter, lead_filter
from models import TaskStatus
from services import access, bulk
from services.actors import Actor
from services.deals import LOST_REASONS
from services.errors import InvalidInput
from web_app import container_of
from webhooks.common import read_form_pairs


def setup(app: web.Application) -> None:
    for listed in LISTS:
        if listed.reassign is not None:
            app.router.add_get(f"{listed.path}/reassign", _plan_view(listed))
            app.router.add_post(f"{listed.path}/reassign", _apply_view(listed))
        if listed.tasks is not None:
            app.router.add_get(f"{listed.path}/tasks", _tasks_plan_view(listed))
            app.router.add_post(f"{listed.path}/tasks", _tasks_apply_view(listed))
    app.router.add_get("/admin/tasks/close", close_plan)
    app.router.add_post("/admin/tasks/close", close)
    for listed in ("/admin/deals", "/admin/tasks", "/admin/clients"):
        app.router.add_get(f"{listed}/delete", delete_plan)
        app.router.add_post(f"{listed}/delete", delete)
    app.router.add_get("/admin/leads/reject", reject_plan)
    app.router.add_post("/admin/leads/reject", reject)
    app.router.add_get("/admin/deals/move", move_plan)
    app.router.add_post("/admin/deals/move", move)
    app.router.add_get("/admin/bulk", operations_page)
    app.router.add_get("/admin/bulk/{op_id:\\d{1,18}}", operation_page)
    app.router.add_post("/admin/bulk/{op_id:\\d{1,18}}/undo", undo)


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


async def close_plan(request: web.Request) -> web.StreamResponse:
    """How many tasks would close, counted; a form to apply exactly that."""
    form = _close_input(inputs.parse(inputs.TasksClose, request.query))
    me = request[EMPLOYEE]
    plan = await bulk.plan_close(
        request[DB], _task_filter(request, form), status=TaskStatus(form.close), by=Actor.of(me)
    )
    values = context(request, me=me, plan=plan, form=form)
    return aiohttp_jinja2.render_template("bulk_close_plan.html", request, values)


async def close(request: web.Request) -> web.StreamResponse:
    form = _close_input(inputs.parse(inputs.TasksClose, await read_form_pairs(request)))
    if form.expected is None:
        raise InvalidInput("no count", key="web.bad_input", fields="expected")
    op_id = await bulk.close_tasks(
        request[DB],
        _task_filter(request, form),
        status=TaskStatus(form.close),
        expected=form.expected,
        by=Actor.of(request[EMPLOYEE]),
        company=container_of(request).company,
    )
    raise web.HTTPFound(f"/admin/bulk/{op_id}")


def _close_input(form: inputs.TasksClose) -> inputs.TasksClose:
    if form.close is None:
        raise InvalidInput("done or cancelled", key="bulk.choose_close")
    if form.scope == "selected" and not form.id:
        raise InvalidInput("nothing ticked", key="bulk.choose")
    return form


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


async def reject_plan(request: web.Request) -> web.StreamResponse:
    """How many new leads would be marked, counted; a form to apply exactly that."""
    form = inputs.parse(inputs.LeadsReject, request.query)
    status, reason = form.marked()
    me = request[EMPLOYEE]
    plan = await bulk.plan_reject(
        request[DB], lead_filter(request, form), status=status, reason=reason, by=Actor.of(me)
    )
    values = context(request, me=me, plan=plan, form=form)
    return aiohttp_jinja2.render_template("bulk_reject_plan.html", request, values)


async def reject(request: web.Request) -> web.StreamResponse:
    form = inputs.parse(inputs.LeadsReject, await read_form_pairs(request))
    status, reason = form.marked()
    if form.expected is None:
        raise InvalidInput("no count", key="web.bad_input", fields="expected")
    op_id = await bulk.reject_leads(
        request[DB],
        lead_filter(request, form),
        status=status,
        reason=reason,
        expected=form.expected,
        by=Actor.of(request[EMPLOYEE]),
        company=container_of(request).company,
    )
    raise web.HTTPFound(f"/admin/bulk/{op_id}")


def _delete_input(request: web.Request, data: Any) -> tuple[Any, Any]:
    """The delete's form as the list it came from reads it (`/admin/deals/delete`,
    `/admin/tasks/delete`, `/admin/clients/delete`), and the chosen records as that list's
    filter."""
    if request.path.startswith("/admin/tasks/"):
        tasks_form = inputs.parse(inputs.TasksDelete, data)
        return tasks_form, _task_filter(request, tasks_form)
    if request.path.startswith("/admin/clients/"):
        clients_form = inputs.parse(inputs.ClientsDelete, data)
        return clients_form, _client_filter(request, clients_form)
    deals_form = inputs.parse(inputs.DealsDelete, data)
    return deals_form, _deal_filter(request, deals_form)


async def delete_plan(request: web.Request) -> web.StreamResponse:
    """How many deals (tasks, clients) would be deleted, and what goes with them; a form to
    apply exactly that (admins only)."""
    form, shown = _delete_input(request, request.query)
    me = request[EMPLOYEE]
    plan = await bulk.plan_delete(request[DB], shown, by=Actor.of(me))
    values = context(request, me=me, plan=plan, form=form, order=bulk.ORDER)
    return aiohttp_jinja2.render_template("bulk_delete_plan.html", request, values)


async def delete(request: web.Request) -> web.StreamResponse:
    form, shown = _delete_input(request, await read_form_pairs(request))
    if form.expected is None:
        raise InvalidInput("no count", key="web.bad_input", fields="expected")
    op_id = await bulk.delete(
        request[DB],
        shown,
        expected=form.expected,
        by=Actor.of(request[EMPLOYEE]),
        company=container_of(request).company,
    )
    raise web.HTTPFound(f"/admin/bulk/{op_id}")
