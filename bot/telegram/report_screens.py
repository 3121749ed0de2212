"""/report as the bot shows it: the key numbers first, one line each, readable on a phone."""

from __future__ import annotations

import html
from datetime import date, datetime, tzinfo

from bot.telegram.limits import fit_text
from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    DealAction,
    DealCallback,
    ReportCallback,
    ReportView,
)
from services.reports import Funnel, Numbers, Period, Preset, Report, SourceRow
from services.reports.lists import MissedCall, StuckDeal

PEOPLE_SHOWN = 30  # lines (and buttons) for people; a bigger office is summed in its total
SOURCES_SHOWN = 40  # the biggest sources; the rest are in the admin web's report


def period_label(period: Period, t: Translator, preset: Preset | None) -> str:
    days = (
        f"{_day(period.first, t)}"
        if period.days == 1
        else f"{_day(period.first, t)} – {_day(period.last, t)}"
    )
    return f"{t(f'report.preset.{preset.value}')}, {days}" if preset else days


def _day(day: date, t: Translator) -> str:
    return day.strftime("%d.%m.%Y")


def report(
    shown: Report, title: str, t: Translator, *, preset: Preset | None, who: int, manages: bool
) -> Screen:
    """The numbers; for a manager's office (or an admin's company) a line per person and a
    button each; buttons for the period (whose numbers kept)."""
    n = shown.total
    lines = [f"<b>{html.escape(title)}</b>"]
    if _empty(n):
        lines.append(html.escape(t("report.empty")))
    else:
        lines += [html.escape(line) for line in numbers(n, shown.period, t)]
    listed = shown.people[:PEOPLE_SHOWN] if manages and not who else []
    if listed:
        lines += ["", html.escape(t("report.people"))]
        for person in listed:
            p = person.numbers
            leads = t.plural("report.lead_count", p.lead_count)
            line = t("report.person_line", name=person.name, leads=leads, won=t.money(p.won_sum))
            lines.append(html.escape(line))
    keyboard = [_periods(preset, who, t)]
    if not who:
        sources = ReportCallback(preset=_preset(preset), view=ReportView.SOURCES)
        plan = ReportCallback(preset=Preset.MONTH, view=ReportView.PLAN)
        stages = ReportCallback(preset=_preset(preset), view=ReportView.FUNNEL)
        keyboard.append(
            [
                button(t("report.sources_button"), sources),
                button(t("report.plan_button"), plan),
                button(t("report.funnel_button"), stages),
            ]
        )
    keyboard += [
        [button(p.name[:40], ReportCallback(preset=_preset(preset), who=p.id))] for p in listed
    ]
    if manages and who:
        keyboard.append([button(t("report.back"), ReportCallback(preset=_preset(preset)))])
    return Screen(fit_text("\n".join(lines)), keyboard)


def numbers(n: Numbers, period: Period, t: Translator) -> list[str]:
    statuses = {s: n.leads.get(s, 0) for s in ("new", "target", "non_target", "spam")}
    lines = [t("report.leads", count=n.lead_count) + " — " + t("report.statuses", **statuses)]
    if n.sources:
        top = sorted(n.sources.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        lines.append(t("report.sources", list=", ".join(f"{s} {c}" for s, c in top)))
    lines.append(t("report.calls", incoming=n.calls_in, outgoing=n.calls_out, missed=n.missed))
    if n.missed_not_called_back:
        lines.append(t("report.not_called_back", count=n.missed_not_called_back))
    if n.response_median is not None and n.response_p90 is not None:
        lines.append(
            t(
                "report.response",
                median=duration(n.response_median, t),
                p90=duration(n.response_p90, t),
            )
        )
    else:
        lines.append(t("report.no_response"))
    lines.append(t("report.deals_created", count=n.deals_created, sum=t.money(n.created_sum)))
    lines.append(
        t("report.won", count=n.won, sum=t.money(n.won_sum), profit=t.money(n.gross_profit))
    )
    lines.append(t("report.lost", count=n.lost, sum=t.money(n.lost_sum)))
    if n.lost_reasons:
        reasons = sorted(n.lost_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        words = ", ".join(f"{t(f'report.reason.{r}', default=r)} {c}" for r, c in reasons)
        lines.append(t("report.reasons", list=words))
    if n.forecast is not None:
        month = period.last.strftime("%m.%Y")
        if n.plan:
            lines.append(
                t(
                    "report.plan",
                    month=month,
                    plan=t.money(n.plan),
                    percent=n.plan_percent,
                    forecast=t.money(n.forecast),
                )
            )
        else:
            lines.append(
                t(
                    "report.no_plan",
                    month=month,
                    revenue=t.money(n.month_revenue),
                    forecast=t.money(n.forecast),
                )
            )
    return lines


def duration(seconds: int, t: Translator) -> str:
    """ "4 минуты", "2 часа 5 минут": what a manager reads, not seconds. Rounded half up, as
    services/reports/rows.response_bucket rounds response times in SQL."""
    minutes = max((seconds + 30) // 60, 1) if seconds else 0
    if minutes < 60:
        return t.plural("report.minutes", minutes)
    if minutes >= 48 * 60:  # long stays read in days
        return t.plural("report.days", (minutes + 720) // 1440)
    hours, rest = divmod(minutes, 60)
    text = t.plural("report.hours", hours)
    return f"{text} {t.plural('report.minutes', rest)}" if rest else text


def _empty(n: Numbers) -> bool:
    return (
        not (n.lead_count or n.calls_in or n.calls_out or n.deals_created or n.won or n.lost)
        and not n.month_revenue
        and not n.plan
    )


def _preset(preset: Preset | None) -> Preset:
    return preset or Preset.TODAY


def _periods(
    preset: Preset | None, who: int, t: Translator, view: ReportView = ReportView.NUMBERS
) -> list[Button]:
    return [
        button(
            ("• " if p is preset else "") + t(f"report.preset.{p.value}"),
            ReportCallback(preset=p, who=who, view=view),
        )
        for p in Preset
    ]


def sources(rows: list[SourceRow], title: str, t: Translator, *, preset: Preset | None) -> Screen:
    """Per source (campaign, line): leads, the target share, deals, won and their revenue."""
    lines = [f"<b>{html.escape(title)}</b>"]
    if not rows:
        lines.append(html.escape(t("report.empty")))
    for row in rows[:SOURCES_SHOWN]:
        name = " · ".join(x for x in (row.source, row.campaign, row.line) if x)
        line = t(
            "report.source_line",
            name=name,
            leads=t.plural("report.lead_count", row.leads),
            share=row.target_share,
            deals=row.deals,
            won=row.won,
            revenue=t.money(row.revenue),
        )
        lines.append(html.escape(line))
    keyboard = [
        _periods(preset, 0, t, ReportView.SOURCES),
        [button(t("report.back"), ReportCallback(preset=_preset(preset)))],
    ]
    return Screen(fit_text("\n".join(lines)), keyboard)


def plan_vs_fact(shown: Report, title: str, t: Translator) -> Screen:
    """The month so far: each person's revenue against their plan, and the forecast."""
    lines = [f"<b>{html.escape(title)}</b>"]
    rows = [("", shown.total)] if not shown.people else []
    rows += [(p.name, p.numbers) for p in shown.people[:PEOPLE_SHOWN]]
    if shown.people:
        rows.append((t("report.total"), shown.total))
    for name, n in rows:
        key = "report.plan_line" if n.plan else "report.plan_line_none"
        line = t(
            key,
            name=name,
            fact=t.money(n.month_revenue),
            plan=t.money(n.plan),
            percent=n.plan_percent,
            forecast=t.money(n.forecast),
        )
        lines.append(html.escape(line.removeprefix(": ")))
    back = [button(t("report.back"), ReportCallback(preset=Preset.MONTH))]
    return Screen(fit_text("\n".join(lines)), [back])


def funnel(shown: Funnel, title: str, t: Translator, *, preset: Preset | None) -> Screen:
    """Each stage: how many of the period's deals reached it, the conversion from the stage
    before, and the average time deals spent in it. With several pipelines, a button each."""
    lines = [f"<b>{html.escape(title)}</b>"]
    if len(shown.pipelines) > 1:
        lines.append(html.escape(shown.name))
    for row in shown.stages:
        parts = [t("report.stage_reached", name=row.name, count=row.reached)]
        if row.conversion is not None:
            parts.append(t("report.stage_conversion", percent=row.conversion))
        if row.average_seconds is not None:
            parts.append(t("report.stage_time", time=duration(row.average_seconds, t)))
        lines.append(html.escape(" · ".join(parts)))
    choices = [
        button(
            ("• " if pipeline_id == shown.pipeline_id else "") + name,
            ReportCallback(preset=_preset(preset), view=ReportView.FUNNEL, pipeline=pipeline_id),
        )
        for pipeline_id, name in shown.pipelines
    ]
    keyboard = [choices[i : i + 2] for i in range(0, len(choices), 2)] if len(choices) > 1 else []
    periods = [
        button(
            ("• " if p is preset else "") + t(f"report.preset.{p.value}"),
            ReportCallback(preset=p, view=ReportView.FUNNEL, pipeline=shown.pipeline_id),
        )
        for p in Preset
    ]
    keyboard += [periods, [button(t("report.back"), ReportCallback(preset=_preset(preset)))]]
    return Screen(fit_text("\n".join(lines)), keyboard)


def missed_calls(
    rows: list[MissedCall], title: str, t: Translator, tz: tzinfo, *, preset: Preset | None
) -> Screen:
    """Missed calls nobody called back: when, who called, whose; the client's card."""
    lines = [f"<b>{html.escape(title)}</b>"]
    if not rows:
        lines.append(html.escape(t("report.none_missed")))
    keyboard: list[list[Button]] = []
    for row in rows:
        who = row.client or row.number or t("report.unknown_number")
        when = row.at.astimezone(tz).strftime("%d.%m %H:%M")
        line = t("report.missed_line", when=when, who=who, employee=row.employee or "—")
        lines.append(html.escape(line))
        if row.client_id is not None:
            card = ClientCallback(action=ClientAction.OPEN, client_id=row.client_id)
            keyboard.append([button(f"{when} {who}"[:60], card)])
    keyboard.append([button(t("report.back"), ReportCallback(preset=_preset(preset)))])
    return Screen(fit_text("\n".join(lines)), keyboard)


def stuck_deals(
    count: int, rows: list[StuckDeal], title: str, t: Translator, now: datetime
) -> Screen:
    """Deals quiet longer than their stage allows, the quietest first; each opens."""
    lines = [f"<b>{html.escape(title)}</b>", html.escape(t("report.stuck_count", count=count))]
    keyboard: list[list[Button]] = []
    for row in rows:
        days = t.plural("report.days", max((now - row.quiet_since).days, 1))
        line = t(
            "report.stuck_line", title=row.title, stage=row.stage, owner=row.owner or "—", days=days
        )
        lines.append(html.escape(line))
        keyboard.append(
            [button(row.title[:60], DealCallback(action=DealAction.OPEN, deal_id=row.deal_id))]
        )
    keyboard.append([button(t("report.back"), ReportCallback(preset=Preset.TODAY))])
    return Screen(fit_text("\n".join(lines)), keyboard)
