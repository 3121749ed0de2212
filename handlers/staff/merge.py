"""Merging duplicate clients from the client card (managers and admins; the service re-checks
every press): Merge → name the duplicate (typed, or one of the likely ones) → both side by
side → Confirm → the survivor's card with Undo for 24 hours."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import merge_screens
from bot.telegram.client_screens import client_card
from bot.telegram.screens import Ui
from config.i18n import Translator
from handlers.callbacks import MergeAction, MergeCallback, MergeUndoCallback, Presses
from handlers.filters import TypedText
from handlers.router import Router
from services.actors import Actor
from services.clients import duplicates
from services.clients import merge as merging
from services.context import Company


class MergeDialog(StatesGroup):
    duplicate = State()  # waiting for the duplicate's phone, name or e-mail; data: client_id


def make_router() -> Router:
    router = Router(name="staff.merge")
    router.callback_query.filter(Presses(MergeCallback, MergeUndoCallback))
    on = router.callback_query.register
    on(start, MergeCallback.filter(F.action == MergeAction.START))
    on(pick, MergeCallback.filter(F.action == MergeAction.PICK))
    on(confirm, MergeCallback.filter(F.action == MergeAction.CONFIRM))
    on(cancel, MergeCallback.filter(F.action == MergeAction.CANCEL))
    on(undo, MergeUndoCallback.filter())
    router.message.register(typed, StateFilter(MergeDialog.duplicate), TypedText())
    return router


async def start(
    query: CallbackQuery,
    callback_data: MergeCallback,
    session: AsyncSession,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    candidates = await duplicates.likely(session, callback_data.client_id, by=actor)
    await state.set_state(MergeDialog.duplicate)
    await state.set_data({"client_id": callback_data.client_id})
    await ui.show(merge_screens.ask(candidates, t))
    return query.answer()


async def typed(
    message: Message, session: AsyncSession, actor: Actor, t: Translator, ui: Ui, state: FSMContext
) -> None:
    client_id = int((await state.get_data())["client_id"])
    text = message.text or ""
    candidates = await duplicates.lookup(session, client_id, text, by=actor)
    await ui.send(merge_screens.found(candidates, text, t))


async def pick(
    query: CallbackQuery,
    callback_data: MergeCallback,
    session: AsyncSession,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    ids = callback_data.client_id, callback_data.other_id
    preview = await duplicates.preview(session, *ids, by=actor)
    await state.clear()
    await ui.show(merge_screens.confirm(preview, t))
    return query.answer()


async def confirm(
    query: CallbackQuery,
    callback_data: MergeCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    ids = callback_data.client_id, callback_data.other_id
    done = await merging.merge(session, *ids, by=actor, company=company)
    await state.clear()
    card = await client_card(session, done.survivor_id, by=actor, t=t, default_tz=company.timezone)
    await ui.show(merge_screens.with_undo(card, done.merge_id, t))
    return query.answer(t("merge.done"))


async def cancel(
    query: CallbackQuery,
    callback_data: MergeCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    await state.clear()
    card = await client_card(
        session, callback_data.client_id, by=actor, t=t, default_tz=company.timezone
    )
    await ui.show(card)
    return query.answer()


async def undo(
    query: CallbackQuery,
    callback_data: MergeUndoCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> AnswerCallbackQuery:
    done = await merging.undo(session, callback_data.merge_id, by=actor, company=company)
    card = await client_card(session, done.survivor_id, by=actor, t=t, default_tz=company.timezone)
    await ui.show(card)
    return query.answer(t("merge.undone"))
