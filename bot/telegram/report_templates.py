"""Reports the outbox delivers: an employee's daily digest, counted when it is sent, and the
escalations of what waited too long."""

from __future__ import annotations

import asyncio
import html
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import GiveUp
from bot.telegram import charts, report_screens, screens
from bot.telegram.limits import fit_text
from bot.telegram.rendering import Context, Rendered
from bot.telegram.screens import button
from config.i18n import Translator
from handlers.callbacks import (
    DealAction,
    DealCallback,
    LeadAction,
    LeadCallback,
    ReportCallback,
    ReportView,
    TaskAction,
    TaskCallback,
    TaskListCallback,
    TaskListView,
    TicketAction,
    TicketCallback,
)
from models import Role
from services import escalations, reports
from services.context import Company
from services.outbox import Claimed

PEOPLE_IN_DIGEST = 10  # a manager's digest names the office's first ten by revenue


async def digest(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> tuple[str, object]:
    """Yesterday's numbers (and on Mondays last week's), whose by the recipient's role."""
    company = _company(context)
    day = date.fromisoformat(str(row.payload["day"]))
    plan = await reports.digests.of(session, int(row.payload["employee_id"]), day, company)
    now = context.clock.now()
    whose = {
        Role.ADMIN: "report.digest_company",
        Role.MANAGER: "report.digest_office",
    }.get(plan.role, "report.digest_own")
    lines: list[str] = []
    not_called_back = 0
    for period, key in (
        (plan.yesterday, "report.digest_day"),
        (plan.last_week, "report.digest_week"),
    ):
        if period is None:
            continue
        shown = await reports.manager_report(session, period, plan.scope, today=now)
        if period is plan.yesterday:
            not_called_back = shown.total.missed_not_called_back
        label = report_screens.period_label(period, t, None)
        if lines:
            lines.append("")
        lines.append(f"<b>{html.escape(t(key, period=label, whose=t(whose)))}</b>")
        lines += [html.escape(line) for line in report_screens.numbers(shown.total, period, t)]
        if plan.role in (Role.MANAGER, Role.ADMIN) and shown.people:
            best = sorted(shown.people, key=lambda p: (-p.numbers.won_sum, p.name))
            for person in best[:PEOPLE_IN_DIGEST]:
                n = person.numbers
                leads = t.plural("report.lead_count", n.lead_count)
                line = t(
                    "report.person_line", name=person.name, leads=leads, won=t.money(n.won_sum)
                )
                lines.append(html.escape(line))
    # Numbers that are lists: said, with a button that opens the list (of that day, whenever
    # the button is pressed).
    overdue = await reports.lists.overdue_tasks(session, now, plan.scope)
    stuck, _ = await reports.lists.stuck_deals(
        session, now, plan.scope, company.escalations.deal_days, limit=0
    )
    lines.insert(1, html.escape(t("report.digest_overdue", count=overdue)))
    lines.insert(2, html.escape(t("report.digest_stuck", count=stuck)))
    text = fit_text("\n".join(lines))
    yesterday, day = reports.Preset.YESTERDAY, plan.yesterday.first.toordinal()
    keyboard = [[button(t("report.open"), ReportCallback(preset=yesterday, day=day))]]
    if not_called_back:
        view = ReportCallback(preset=yesterday, view=ReportView.MISSED, day=day)
        keyboard.append([button(t("report.button_missed", count=not_called_back), view)])
    if overdue:
        tasks = (
            TaskListView.OFFICE if plan.role in (Role.MANAGER, Role.ADMIN) else TaskListView.OVERDUE
        )
        keyboard.append(
            [button(t("report.button_overdue", count=overdue), TaskListCallback(view=tasks))]
        )
    if stuck:
        view = ReportCallback(preset=reports.Preset.TODAY, view=ReportView.STUCK)
        keyboard.append([button(t("report.button_stuck", count=stuck), view)])
    return text, screens.markup_of({"keyboard": keyboard})


_OPEN = {
    "task": lambda i: TaskCallback(action=TaskAction.OPEN, task_id=i),
    "lead": lambda i: LeadCallback(action=LeadAction.OPEN, lead_id=i),
    "deal": lambda i: DealCallback(action=DealAction.OPEN, deal_id=i),
    "ticket": lambda i: TicketCallback(action=TicketAction.OPEN, ticket_id=i),
}


async def escalation(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> tuple[str, object]:
    """What waited too long, how long, whose; a button that opens it. Dealt with meanwhile:
    not sent."""
    kind, entity_id = str(row.payload["kind"]), int(row.payload["id"])
    company = _company(context)
    since = int(row.payload["since"])
    found = await escalations.view(session, kind, entity_id, since, company=company)
    if found is None:
        raise GiveUp(f"{kind} {entity_id} was dealt with before its escalation went out")
    waited = found.waited
    if kind == "deal":
        late = t.plural("report.days", max(waited // 86400, 1))
    else:
        late = report_screens.duration(waited, t)
    text = t(
        f"report.escalation.{kind}",
        what=found.what,
        who=found.who or t("report.escalation.nobody"),
        late=late,
        where=found.where or "",
    )
    keyboard = [[button(t(f"report.escalation.open_{kind}"), _OPEN[kind](entity_id))]]
    return html.escape(text), screens.markup_of({"keyboard": keyboard})


def _company(context: Context) -> Company:
    if context.company is not None:
        return context.company
    return Company(timezone=context.timezone, clock=context.clock)  # type: ignore[arg-type]


async def chart(session: AsyncSession, row: Claimed, t: Translator, context: Context) -> Rendered:
    """Mondays, for a manager or an admin: the month's plan against the fact, per person, as
    a picture (the text digest before it has the numbers)."""
    company = _company(context)
    day = date.fromisoformat(str(row.payload["day"]))
    plan = await reports.digests.of(session, int(row.payload["employee_id"]), day, company)
    month = reports.Period(
        plan.yesterday.last.replace(day=1), plan.yesterday.last, plan.yesterday.tz
    )
    shown = await reports.manager_report(session, month, plan.scope, today=context.clock.now())
    if not shown.people:
        raise GiveUp("nobody's numbers to draw")
    rows = [(p.name, p.numbers.month_revenue, p.numbers.plan) for p in shown.people]
    title = t("report.chart_title", month=f"{month.first:%m.%Y}")
    picture = await asyncio.to_thread(  # drawing takes a while: not on the event loop
        charts.plan_vs_fact,
        rows,
        title=title,
        fact=t("report.chart_fact"),
        plan=t("report.chart_plan"),
    )
    return Rendered(html.escape(title), None, picture=picture)
