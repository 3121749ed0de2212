"""/report: the viewer's numbers (an employee's own; a manager's office with a line and a
button per person; an admin's company) for today, yesterday, the week, the month, or dates
typed after the command. Counting is services.reports'; this only translates."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import report_screens
from bot.telegram.screens import Screen, Ui
from handlers.callbacks import Presses, ReportCallback, ReportView
from handlers.router import Router
from models import Role
from services import actors, reports
from services.actors import Actor
from services.context import Company
from services.errors import InvalidInput

_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{4}))?$")


def make_router() -> Router:
    router = Router(name="staff.reports")
    router.callback_query.filter(Presses(ReportCallback))
    router.message.register(show, Command("report"))
    router.callback_query.register(pressed, ReportCallback.filter())
    return router


async def show(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> None:
    now = company.clock.now()
    tz = await actors.zone_of(session, actor, company.timezone)  # the viewer's days
    words = (command.args or "").split()
    if words:
        period, preset = _typed(words, now, tz), None
    else:
        preset = reports.Preset.TODAY
        period = reports.Period.of(preset, now, tz)
    await ui.send(await _screen(session, actor, company, period, preset, 0, ui))


async def pressed(
    query: CallbackQuery,
    callback_data: ReportCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    tz = await actors.zone_of(session, actor, company.timezone)  # the viewer's days
    preset: reports.Preset | None = callback_data.preset
    if callback_data.day:  # a digest's day, whenever the button is pressed
        day = date.fromordinal(callback_data.day)
        period, preset = reports.Period(day, day, tz), None
    else:
        period = reports.Period.of(callback_data.preset, company.clock.now(), tz)
    if callback_data.view is ReportView.SOURCES:
        scope = reports.scope_for(actor)
        rows = await reports.sources_report(session, period, scope, today=company.clock.now())
        label = report_screens.period_label(period, ui.t, preset)
        title = ui.t("report.title_sources", period=label)
        await ui.edit(report_screens.sources(rows, title, ui.t, preset=preset))
        return query.answer()
    if callback_data.view is ReportView.MISSED:
        rows = await reports.lists.missed_calls(session, period, reports.scope_for(actor))
        label = report_screens.period_label(period, ui.t, preset)
        title = ui.t("report.title_missed", period=label)
        screen = report_screens.missed_calls(rows, title, ui.t, tz, preset=preset)
        await ui.edit(screen)
        return query.answer()
    if callback_data.view is ReportView.STUCK:
        now = company.clock.now()
        count, deals = await reports.lists.stuck_deals(
            session, now, reports.scope_for(actor), company.escalations.deal_days
        )
        title = ui.t("report.title_stuck")
        await ui.edit(report_screens.stuck_deals(count, deals, title, ui.t, now))
        return query.answer()
    if callback_data.view is ReportView.FUNNEL:
        shown = await reports.funnel(
            session,
            period,
            reports.scope_for(actor),
            callback_data.pipeline or None,
            today=company.clock.now(),
        )
        label = report_screens.period_label(period, ui.t, preset)
        title = ui.t("report.title_funnel", period=label)
        await ui.edit(report_screens.funnel(shown, title, ui.t, preset=preset))
        return query.answer()
    if callback_data.view is ReportView.PLAN:
        month = reports.Period.of(reports.Preset.MONTH, company.clock.now(), tz)
        shown = await reports.manager_report(
            session, month, reports.scope_for(actor), today=company.clock.now()
        )
        title = ui.t("report.title_plan", month=f"{month.first:%m.%Y}")
        await ui.edit(report_screens.plan_vs_fact(shown, title, ui.t))
        return query.answer()
    await ui.edit(await _screen(session, actor, company, period, preset, callback_data.who, ui))
    return query.answer()


async def _screen(
    session: AsyncSession,
    actor: Actor,
    company: Company,
    period: reports.Period,
    preset: reports.Preset | None,
    who: int,
    ui: Ui,
) -> Screen:
    t = ui.t
    name = await reports.person(session, actor, who) if who else None
    scope = reports.scope_for(actor, employee_id=who or None)
    shown = await reports.manager_report(session, period, scope, today=company.clock.now())
    label = report_screens.period_label(period, t, preset)
    manages = actor.role in (Role.MANAGER, Role.ADMIN)
    if name is not None and who != actor.id:
        title = t("report.title_person", name=name, period=label)
    elif not manages or who:
        title = t("report.title_own", period=label)
    elif scope.office_id is not None:
        title = t("report.title_office", period=label)
    else:
        title = t("report.title_company", period=label)
    return report_screens.report(shown, title, t, preset=preset, who=who, manages=manages)


def _typed(words: list[str], now: datetime, tz: tzinfo) -> reports.Period:
    """ "01.11 30.11" or "01.11.2026 30.11.2026" (one date: that day), in the viewer's zone."""
    today = now.astimezone(tz).date()
    days = [_day(w, today) for w in words[:2]]
    return reports.Period.between(days[0], days[-1], tz)


def _day(word: str, today: date) -> date:
    match = _DAY.match(word)
    if match is None:
        raise InvalidInput("not a date", key="report.bad_dates")
    day, month, year = int(match[1]), int(match[2]), int(match[3] or today.year)
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidInput("not a date", key="report.bad_dates") from None
