"""`/admin/reports`: the numbers of services.reports for a period picked on the page (today,
yesterday, this week, this month, or any days up to a year), for the company, an office or
one person (within what the viewer may see): per person and in total, by source, and the
funnel; the month's revenue against the plan drawn on the server as SVG; the per-person table
as CSV or XLSX."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from admin_web.exports import XLSX_TYPE, Csv, Xlsx
from bot.telegram import charts
from services import access, audit, reports
from services.actors import Actor
from services.deals import lists as deal_lists
from web_app import container_of


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/reports", report_page)
    app.router.add_get("/admin/reports/chart.svg", chart)
    app.router.add_get("/admin/reports/export", export)


class ReportsQuery(inputs.Input):
    preset: reports.Preset | None = None
    since: inputs.Day | None = None
    until: inputs.Day | None = None
    office: inputs.Id | None = None
    employee: inputs.Id | None = None
    pipeline: inputs.Id | None = None  # the funnel's (none, or one gone: the default)


async def _report(request: web.Request) -> tuple[ReportsQuery, reports.Report]:
    query = inputs.parse(ReportsQuery, request.query)
    me = request[EMPLOYEE]
    if not access.can_change_in_bulk(me):  # the web's reports are managers' and admins'
        raise web.HTTPNotFound()
    company = container_of(request).company
    now = company.clock.now()
    if query.since or query.until:
        first = query.since or query.until
        assert first is not None
        period = reports.Period.between(first, query.until or first, company.timezone)
    else:
        period = reports.Period.of(query.preset or reports.Preset.MONTH, now, company.timezone)
    scope = reports.scope_for(Actor.of(me), employee_id=query.employee, office_id=query.office)
    shown = await reports.manager_report(request[DB], period, scope, today=now)
    return query, shown


async def report_page(request: web.Request) -> web.StreamResponse:
    query, shown = await _report(request)
    session, me = request[DB], request[EMPLOYEE]
    now = container_of(request).company.clock.now()
    sources = await reports.sources_report(session, shown.period, shown.scope, today=now)
    funnel = await reports.funnel(session, shown.period, shown.scope, query.pipeline, today=now)
    choices = await deal_lists.choices(session, office_id=access.office_limit(me))
    values = context(
        request,
        me=me,
        query=query,
        report=shown,
        sources=sources,
        funnel=funnel,
        choices=choices,
        presets=list(reports.Preset),
    )
    return aiohttp_jinja2.render_template("reports.html", request, values)


async def chart(request: web.Request) -> web.StreamResponse:
    """The month's revenue so far against the plan, per person, as SVG."""
    _query, shown = await _report(request)
    t = context(request)["t"]
    rows = [(p.name, p.numbers.month_revenue, p.numbers.plan) for p in shown.people]
    month = shown.period.month()
    picture = await asyncio.to_thread(  # drawing takes a while: not on the event loop
        charts.plan_vs_fact,
        rows or [("—", shown.total.month_revenue, shown.total.plan)],
        title=t("report.chart_title", month=f"{month.first:%m.%Y}"),
        fact=t("report.chart_fact"),
        plan=t("report.chart_plan"),
        image="svg",
    )
    return web.Response(
        body=picture, content_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


COLUMNS: tuple[tuple[str, Any], ...] = (
    ("web.who", lambda p: p.name),
    ("reports.leads", lambda p: p.numbers.lead_count),
    ("reports.calls_in", lambda p: p.numbers.calls_in),
    ("reports.calls_out", lambda p: p.numbers.calls_out),
    ("reports.missed", lambda p: p.numbers.missed),
    ("reports.deals", lambda p: p.numbers.deals_created),
    ("reports.won", lambda p: p.numbers.won),
    ("reports.revenue", lambda p: p.numbers.won_sum),
    ("reports.lost", lambda p: p.numbers.lost),
    ("reports.plan", lambda p: p.numbers.plan),
    ("reports.plan_percent", lambda p: p.numbers.plan_percent),
)


async def export(request: web.Request) -> web.StreamResponse:
    """The per-person table (and the total) as CSV or XLSX, audit-logged like a list's export
    (who took which numbers out)."""
    query, shown = await _report(request)
    wanted = "xlsx" if request.query.get("format") == "xlsx" else "csv"
    t = context(request)["t"]
    out: Csv | Xlsx = Xlsx(t("reports.title")) if wanted == "xlsx" else Csv(t.locale)
    out.add([t(key) for key, _value in COLUMNS])
    total = reports.Person(0, t("reports.total"), shown.total)
    for person in [*shown.people, total]:
        out.add([value(person) for _key, value in COLUMNS])
    await audit.log(
        request[DB],
        action="export.reports",
        entity_type="export",
        entity_id=None,
        at=container_of(request).company.clock.now(),
        actor_id=request[EMPLOYEE].id,
        actor_kind="employee",
        count=len(shown.people),
        format=wanted,
        filters=query.query(format=None),
    )
    name = (
        f"report-{shown.period.first}-{shown.period.last}.{'xlsx' if wanted == 'xlsx' else 'csv'}"
    )
    return web.Response(
        body=out.finish(),
        headers={
            "Content-Type": XLSX_TYPE if wanted == "xlsx" else "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
