"""Support tickets in Telegram.

Anyone: `/ticket` (or 🆘 on a client or deal card, which attaches it): a topic, then the
question in one or more messages with photos and files, then Send. `/tickets`: my tickets (for
support: the queue by topic and age first). On a ticket's card or a reply: Take (support; one
wins), Reply (each message typed next goes as one reply, until /cancel), Thread (a message per
reply), Close. A Telegram reply to any of a ticket's messages is a reply to that ticket.
Support is told of new tickets; each reply reaches the other side (services.tickets)."""

from __future__ import annotations

from typing import Any

from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from aiogram.utils.formatting import Text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import ticket_screens
from bot.telegram.dialogs import start_dialog
from bot.telegram.screens import Screen, Ui
from handlers.callbacks import (
    NewTicketCallback,
    Presses,
    TicketAbout,
    TicketAction,
    TicketCallback,
    TicketDraftAction,
    TicketDraftCallback,
    TicketListCallback,
    TicketListView,
)
from handlers.filters import PhotoOrFile, RepliesToBot, TypedText
from handlers.router import Router
from models import Role
from services import actors, tasks, tickets
from services.actors import Actor
from services.context import Company
from services.errors import InvalidInput

_RECORDS = {
    TicketAbout.CLIENT: "client_id",
    TicketAbout.DEAL: "deal_id",
    TicketAbout.LEAD: "lead_id",
}


class TicketDialog(StatesGroup):
    writing = State()  # the question, in messages, until Send
    reply = State()  # answers to `ticket_id`, one per message, until /cancel


def make_reply_router() -> Router:
    """Telegram replies to a ticket's messages: before the search, which takes plain text."""
    router = Router(name="staff.ticket_replies")
    router.message.register(replied, RepliesToBot())
    return router


def make_router() -> Router:
    router = Router(name="staff.tickets")
    kinds = (NewTicketCallback, TicketCallback, TicketDraftCallback, TicketListCallback)
    router.callback_query.filter(Presses(*kinds))
    router.message.register(cancel, Command("cancel"), StateFilter(TicketDialog))
    router.message.register(new_ticket, Command("ticket"))
    router.message.register(show_tickets, Command("tickets"))
    router.message.register(writing, StateFilter(TicketDialog.writing), TypedText())
    router.message.register(writing, StateFilter(TicketDialog.writing), PhotoOrFile())
    router.message.register(answering, StateFilter(TicketDialog.reply), TypedText())
    router.message.register(answering, StateFilter(TicketDialog.reply), PhotoOrFile())
    router.callback_query.register(topic_button, NewTicketCallback.filter())
    router.callback_query.register(draft_button, TicketDraftCallback.filter())
    router.callback_query.register(ticket_button, TicketCallback.filter())
    router.callback_query.register(list_button, TicketListCallback.filter())
    return router


# --- raising a ticket


async def new_ticket(message: Message, company: Company, ui: Ui, state: FSMContext) -> None:
    if await state.get_state() in TicketDialog.__all_states_names__:
        await state.clear()
    await ui.send(ticket_screens.categories(company.ticket_categories, ui.t))


async def topic_button(
    query: CallbackQuery,
    callback_data: NewTicketCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    data, names = callback_data, company.ticket_categories
    field = _RECORDS.get(data.about)
    links = {field: data.record_id} if field and data.record_id else {}
    if not data.category:  # from a card: the topics, with what it is about
        about = await tasks.about(session, by=actor, **links) if links else None
        screen = ticket_screens.categories(
            names, ui.t, about=about, kind=data.about, record_id=data.record_id
        )
        await ui.send(screen)
        return query.answer()
    if data.category > len(names):
        raise InvalidInput("no such category", key="ticket.error.category")
    category = names[data.category - 1]
    await start_dialog(
        state,
        TicketDialog.writing,
        clock=company.clock,
        category=category,
        **links,
        text="",
        media=[],
    )
    await ui.edit(Screen.of(Text(ui.t("ticket.describe", category=category))))
    return query.answer()


async def writing(message: Message, ui: Ui, state: FSMContext) -> None:
    """A part of the question: text is added to the text, a photo or file to the files."""
    draft = await state.get_data()
    text, media = str(draft.get("text") or ""), list(draft.get("media") or [])
    found = _media(message)
    if found is not None:
        if len(media) >= tickets.MEDIA_MAX:
            raise InvalidInput("too many", key="ticket.error.too_many", limit=tickets.MEDIA_MAX)
        media.append(found)
    else:
        text = f"{text}\n{message.text}".strip() if text else (message.text or "")
    await state.update_data(text=text, media=media)
    await ui.send(ticket_screens.draft(bool(text), len(media), ui.t))


async def draft_button(
    query: CallbackQuery,
    callback_data: TicketDraftCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    if callback_data.action is TicketDraftAction.CANCEL:
        if await state.get_state() in TicketDialog.__all_states_names__:
            await state.clear()
        await ui.edit(Screen.of(Text(ui.t("ticket.cancelled"))))
        return query.answer()
    if await state.get_state() != TicketDialog.writing.state:
        return query.answer(ui.t("menu.dialog.expired"), show_alert=True)
    draft = await state.get_data()
    ticket = await tickets.raise_ticket(
        session,
        by=actor,
        category=draft["category"],
        text=draft.get("text") or "",
        media=[tickets.Media(**m) for m in draft.get("media") or []],
        company=company,
        client_id=draft.get("client_id"),
        deal_id=draft.get("deal_id"),
        lead_id=draft.get("lead_id"),
    )
    await state.clear()
    await ui.edit(Screen.of(Text(ui.t("ticket.sent", id=ticket.id))))
    return query.answer()


# --- a ticket's buttons, answers


async def ticket_button(
    query: CallbackQuery,
    callback_data: TicketCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    action, ticket_id, t = callback_data.action, callback_data.ticket_id, ui.t
    alert = None
    if action is TicketAction.TAKE:
        await tickets.take(session, ticket_id, by=actor, company=company)
        alert = t("ticket.taken")
    elif action is TicketAction.CLOSE:
        await tickets.close(session, ticket_id, by=actor, company=company)
        alert = t("ticket.closed")
    elif action is TicketAction.THREAD:
        count = await tickets.show_thread(session, ticket_id, by=actor, company=company)
        return query.answer(t("ticket.thread_sent", id=ticket_id, count=count))
    elif action is TicketAction.REPLY:
        await tickets.require_answer(session, ticket_id, by=actor)
        await start_dialog(state, TicketDialog.reply, clock=company.clock, ticket_id=ticket_id)
        await ui.send(Screen.of(Text(t("ticket.reply_prompt", id=ticket_id))))
        return query.answer()
    if not callback_data.on_reply:  # a reply of the thread stays as it was written
        card = await tickets.ticket_for(session, ticket_id, by=actor)
        tz = await actors.zone_of(session, actor, company.timezone)
        await ui.edit(ticket_screens.card(card, t, tz, viewer=actor))
    return query.answer(alert)


async def answering(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    """Each message typed in the dialog is one reply; the dialog stays for the next."""
    ticket_id = int((await state.get_data())["ticket_id"])
    await _answer(message, session, ticket_id, actor=actor, company=company, ui=ui)


async def replied(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> None:
    """A Telegram reply to a ticket's message answers that ticket; any other reply goes on to
    the handlers after this one (a reply to a search result is a search)."""
    replied_to = message.reply_to_message
    assert replied_to is not None  # the filter
    ticket_id = await tickets.ticket_of_message(
        session, chat_id=message.chat.id, message_id=replied_to.message_id
    )
    if ticket_id is None:
        raise SkipHandler
    await _answer(message, session, ticket_id, actor=actor, company=company, ui=ui)


async def _answer(
    message: Message,
    session: AsyncSession,
    ticket_id: int,
    *,
    actor: Actor,
    company: Company,
    ui: Ui,
) -> None:
    found = _media(message)
    media = tickets.Media(**found) if found else None
    text = (message.caption if found else message.text) or ""
    await tickets.reply(session, ticket_id, by=actor, text=text, media=media, company=company)
    await ui.say("ticket.reply_sent", id=ticket_id)


async def cancel(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.clear()
    await ui.say("ticket.cancelled")


# --- lists


async def show_tickets(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    if await state.get_state() in TicketDialog.__all_states_names__:
        await state.clear()
    view = TicketListView.QUEUE if actor.role is Role.SUPPORT else TicketListView.MINE
    await ui.send(await _list(session, view, 0, 0, actor, company, ui))


async def list_button(
    query: CallbackQuery,
    callback_data: TicketListCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    data = callback_data
    await ui.edit(await _list(session, data.view, data.category, data.page, actor, company, ui))
    return query.answer()


async def _list(
    session: AsyncSession,
    view: TicketListView,
    category: int,
    page: int,
    actor: Actor,
    company: Company,
    ui: Ui,
) -> Screen:
    t, now, names = ui.t, company.clock.now(), company.ticket_categories
    support = actor.role is Role.SUPPORT
    if view is TicketListView.QUEUE:
        return ticket_screens.queue(await tickets.queue(session, by=actor), names, t, now=now)
    if view is TicketListView.CATEGORY and 1 <= category <= len(names):
        name = names[category - 1]
        lines, total = await tickets.queue_of(session, name, by=actor, page=page)
        return ticket_screens.queue_of(name, category, lines, total, page, t, now=now)
    lines, total = await tickets.mine(session, by=actor, page=page)
    return ticket_screens.my_list(lines, total, page, t, support=support)


# --- inside


def _media(message: Message) -> dict[str, Any] | None:
    """A photo (its largest size) or a file, as services.tickets.Media's fields."""
    if message.photo:
        return {
            "kind": "photo",
            "file_id": message.photo[-1].file_id,
            "caption": message.caption or "",
        }
    if message.document is not None:
        return {
            "kind": "document",
            "file_id": message.document.file_id,
            "caption": message.caption or "",
            "file_name": message.document.file_name,
        }
    return None
