"""Answering clients from Telegram.

A Telegram reply to a client's relayed message (or to the card of the lead their first
message opened) answers the client on their channel, quoting that message; ↩️ Reply on a
relayed message does the same for every message typed next, until /cancel; 📝 Note (or a
text starting with "//") is a note the client never sees. A failed reply's notice has
🔁 Send again. Deciding is services.conversations'; this only translates.
"""

from __future__ import annotations

import html

from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import conversation_screens
from bot.telegram.conversation_screens import channel_name
from bot.telegram.dialogs import start_dialog
from bot.telegram.screens import Screen, Ui
from handlers.callbacks import (
    ChatAction,
    ChatCallback,
    ChatHandoverCallback,
    ChatTemplateCallback,
    Presses,
)
from handlers.errors import message_for
from handlers.filters import PhotoOrFile, RepliesToBot, TypedText
from handlers.router import Router
from handlers.telegram_messages import content
from services import conversations
from services.actors import Actor
from services.context import Company


class ChatDialog(StatesGroup):
    reply = State()  # each message typed goes to the client of `conversation_id`
    note = State()  # the next text is a note on `conversation_id`


def make_reply_router() -> Router:
    """Telegram replies to client messages: before tickets' and the search, which take text."""
    router = Router(name="staff.conversation_replies")
    router.message.register(replied, RepliesToBot(), TypedText())
    router.message.register(replied, RepliesToBot(), PhotoOrFile())
    return router


def make_router() -> Router:
    router = Router(name="staff.conversations")
    router.callback_query.filter(Presses(ChatCallback, ChatHandoverCallback, ChatTemplateCallback))
    router.message.register(replying, StateFilter(ChatDialog.reply), TypedText())
    router.message.register(replying, StateFilter(ChatDialog.reply), PhotoOrFile())
    router.message.register(noting, StateFilter(ChatDialog.note), TypedText())
    router.callback_query.register(chat_button, ChatCallback.filter())
    router.callback_query.register(handover_button, ChatHandoverCallback.filter())
    router.callback_query.register(template_button, ChatTemplateCallback.filter())
    return router


async def replied(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    replied_to = message.reply_to_message
    assert replied_to is not None  # the filter
    found = await conversations.conversation_of(
        session, chat_id=message.chat.id, telegram_message_id=replied_to.message_id
    )
    if found is None:
        raise SkipHandler  # not a client's message: tickets and search look at it
    conversation_id, quoted = found
    if await state.get_state() == ChatDialog.note.state:  # 📝 was pressed: a note, whatever
        await noting(message, session, company, actor, ui, state)  # it is sent as a reply to
        return
    await _write(message, session, conversation_id, quoted, actor=actor, company=company, ui=ui)


async def replying(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    quoted = data.get("quoting") or None
    conversation_id, since = int(data["conversation_id"]), int(data.get("since") or 0)
    other = await conversations.other_client_since(
        session, chat_id=message.chat.id, after=since, conversation_id=conversation_id
    )
    if other is not None:  # someone else wrote meanwhile: whom this is for is not certain
        await state.clear()
        await ui.say(
            "conversation.reply_stopped", name=other or ui.t("conversation.unknown_client")
        )
        return
    await _write(message, session, conversation_id, quoted, actor=actor, company=company, ui=ui)
    if quoted:  # only the first message answers the quoted one
        await state.update_data(quoting=None)


async def noting(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    await state.clear()
    await conversations.write(
        session,
        int(data["conversation_id"]),
        by=actor,
        text=message.text,
        note=True,
        staff_copy=(message.chat.id, message.message_id),
        company=company,
    )
    await ui.say("conversation.note_saved")


async def _write(
    message: Message,
    session: AsyncSession,
    conversation_id: int,
    quoted: int | None,
    *,
    actor: Actor,
    company: Company,
    ui: Ui,
) -> None:
    found = content(message)
    try:
        written = await conversations.write(
            session,
            conversation_id,
            by=actor,
            text=found.text,
            media=found.media,
            quoting=quoted,
            staff_copy=(message.chat.id, message.message_id),
            company=company,
        )
    except conversations.WindowClosed as closed:
        # Said with the templates as buttons: WhatsApp's only way to reach the client now.
        text = html.escape(message_for(closed, ui.t))
        rows = conversation_screens.template_buttons(conversation_id, closed.templates)
        await ui.send(Screen(text, rows))
        return
    if written.note:
        await ui.say("conversation.note_saved")


async def chat_button(
    query: CallbackQuery,
    callback_data: ChatCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    data, t = callback_data, ui.t
    if data.action is ChatAction.RETRY:
        await conversations.retry(session, data.message_id, by=actor, company=company)
        return query.answer(t("conversation.retrying"))
    if data.action is ChatAction.HANDOVER:
        return await _handover_choices(query, session, data.conversation_id, 0, actor, ui)
    await conversations.require(session, data.conversation_id, by=actor)
    about = await conversations.about(session, data.conversation_id)
    names = {"name": about.name or t("conversation.unknown_client")}
    names["channel"] = channel_name(about.channel, t)
    if data.action is ChatAction.NOTE:
        await start_dialog(
            state, ChatDialog.note, clock=company.clock, conversation_id=data.conversation_id
        )
        await ui.say("conversation.note_prompt", **names)
    else:
        await start_dialog(
            state,
            ChatDialog.reply,
            clock=company.clock,
            conversation_id=data.conversation_id,
            quoting=data.message_id or None,
            # a client message shown in this chat after now is news (`replying`)
            since=await conversations.latest_shown(session, ui.chat_id),
        )
        await ui.say("conversation.reply_prompt", **names)
    return query.answer()


async def handover_button(
    query: CallbackQuery,
    callback_data: ChatHandoverCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    data = callback_data
    if not data.employee_id:
        return await _handover_choices(query, session, data.conversation_id, data.page, actor, ui)
    name = await conversations.hand_over(
        session, data.conversation_id, to_id=data.employee_id, by=actor, company=company
    )
    await ui.say("conversation.handed_over", name=name)
    return query.answer(ui.t("conversation.handed_over", name=name))


async def _handover_choices(
    query: CallbackQuery,
    session: AsyncSession,
    conversation_id: int,
    page: int,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    people, more = await conversations.candidates(session, conversation_id, by=actor, page=page)
    about = await conversations.about(session, conversation_id)
    text, rows = conversation_screens.handover_choices(
        about, people, ui.t, page=page, has_more=more
    )
    await ui.send(Screen(text, rows)) if page == 0 else await ui.edit(Screen(text, rows))
    return query.answer()


async def template_button(
    query: CallbackQuery,
    callback_data: ChatTemplateCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    data = callback_data
    name = await conversations.send_template(
        session, data.conversation_id, data.index, by=actor, company=company
    )
    return query.answer(ui.t("conversation.template_sent", name=name))
