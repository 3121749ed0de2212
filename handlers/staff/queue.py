"""/queue: managers and admins see the leads nobody has and give them out (to themselves or
to someone on duty). The service re-checks access on every press."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import queue_cards
from config.i18n import Translator
from handlers.callbacks import Presses, QueueAction, QueueCallback
from handlers.router import Router
from services import access, leads
from services.actors import Actor
from services.context import Company
from services.leads import queue as lead_queue


class KeepsQueue(Filter):
    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and access.can_manage_queue(actor)


def make_router() -> Router:
    router = Router(name="staff.queue")
    router.message.filter(KeepsQueue())
    router.callback_query.filter(Presses(QueueCallback), KeepsQueue())
    router.message.register(show_queue, Command("queue"))
    router.callback_query.register(queue_button, QueueCallback.filter())
    return router


async def show_queue(
    message: Message, session: AsyncSession, company: Company, actor: Actor, t: Translator
) -> None:
    view = await lead_queue.waiting(session, by=actor)
    text, markup = queue_cards.queue_list(view, t, timezone=company.timezone)
    await message.answer(text, reply_markup=markup)


async def queue_button(
    query: CallbackQuery,
    callback_data: QueueCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
) -> AnswerCallbackQuery:
    action, lead_id, alert = callback_data.action, callback_data.lead_id, None
    if action is QueueAction.PICK:
        people = await lead_queue.candidates(session, lead_id, by=actor, company=company)
        text, markup = queue_cards.pick(lead_id, people, t)
    else:
        if action in (QueueAction.MINE, QueueAction.GIVE):
            to = actor.id if action is QueueAction.MINE else callback_data.employee_id
            done = await leads.assign(session, lead_id, to=to, by=actor, company=company)
            alert = t("queue.assigned", lead_id=lead_id, name=done.employee_name)
        view = await lead_queue.waiting(session, by=actor)
        text, markup = queue_cards.queue_list(view, t, timezone=company.timezone)
    await _show(query, text, markup)
    return query.answer(alert)


async def _show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """The queue message itself changes (it is this chat's reply, not a card)."""
    if not isinstance(query.message, Message):
        return  # too old to edit; the press still did its work
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise
