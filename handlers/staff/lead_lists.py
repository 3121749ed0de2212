"""/leads: my new leads; /office (managers, admins): the office's new leads nobody has taken
yet, with their age. A page at a time (‹ ›, edited in place); each lead is a button that sends
its card."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import lead_screens
from bot.telegram.screens import Screen, Ui
from config.i18n import Translator
from handlers.callbacks import ListCallback, ListView, Presses
from handlers.router import Router
from services import leads
from services.actors import Actor
from services.context import Company


def make_router() -> Router:
    router = Router(name="staff.lead_lists")
    router.callback_query.filter(Presses(ListCallback))
    router.message.register(show_my_leads, Command("leads"))
    router.message.register(show_office_leads, Command("office"))
    views = {ListView.MY_LEADS, ListView.OFFICE_LEADS}
    router.callback_query.register(list_page, ListCallback.filter(F.view.in_(views)))
    return router


async def show_my_leads(
    message: Message, session: AsyncSession, company: Company, actor: Actor, t: Translator, ui: Ui
) -> None:
    await ui.send(await _screen(ListView.MY_LEADS, 0, session, company, actor, t))


async def show_office_leads(
    message: Message, session: AsyncSession, company: Company, actor: Actor, t: Translator, ui: Ui
) -> None:
    await ui.send(await _screen(ListView.OFFICE_LEADS, 0, session, company, actor, t))


async def list_page(
    query: CallbackQuery,
    callback_data: ListCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> AnswerCallbackQuery:
    view, page = callback_data.view, callback_data.page
    await ui.edit(await _screen(view, page, session, company, actor, t))
    return query.answer()


async def _screen(
    view: ListView, page: int, session: AsyncSession, company: Company, actor: Actor, t: Translator
) -> Screen:
    if view is ListView.MY_LEADS:
        return lead_screens.my_leads(await leads.lists.my_new(session, by=actor, page=page), t)
    found = await leads.lists.office_untaken(session, by=actor, page=page)
    return lead_screens.office_leads(found, t, now=company.clock.now())
