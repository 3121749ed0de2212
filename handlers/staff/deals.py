"""Deals in Telegram: a new deal from a client card or a lead, the deal card and its buttons
(stage, won, lost with a reason, amount, cost, note, history, reopen), and /deals — my deals by
stage, and for managers the office's by stage and by employee. The service re-checks access on
every press; a typed amount, cost, note or reason is a short dialog (/cancel leaves it)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import deal_screens
from bot.telegram.screens import Screen, Ui
from config.i18n import Translator
from handlers.callbacks import (
    DealAction,
    DealCallback,
    ListCallback,
    ListView,
    NewDealCallback,
    Presses,
)
from handlers.filters import TypedText
from handlers.router import Router
from services import access, actors, deals
from services.actors import Actor
from services.context import Company
from services.errors import InvalidInput

_LISTS = {
    ListView.MY_DEALS,
    ListView.OFFICE_DEALS,
    ListView.DEALS_BY_EMPLOYEE,
    ListView.STAGE_DEALS,
}


class DealDialog(StatesGroup):
    amount = State()
    cost = State()
    note = State()
    lost_other = State()


_PROMPTS = {
    DealAction.AMOUNT: (DealDialog.amount, "deal.amount_prompt"),
    DealAction.COST: (DealDialog.cost, "deal.cost_prompt"),
    DealAction.NOTE: (DealDialog.note, "deal.note_prompt"),
}


def make_router() -> Router:
    router = Router(name="staff.deals")
    router.callback_query.filter(Presses(NewDealCallback, DealCallback, ListCallback))
    router.message.register(cancel, Command("cancel"), StateFilter(DealDialog))
    router.message.register(show_my_deals, Command("deals"))
    # A command typed mid-dialog is a command (another feature's, or /deals), not an amount.
    router.message.register(typed, StateFilter(DealDialog), TypedText())
    router.callback_query.register(new_deal, NewDealCallback.filter())
    router.callback_query.register(deal_button, DealCallback.filter())
    router.callback_query.register(list_button, ListCallback.filter(F.view.in_(_LISTS)))
    return router


async def new_deal(
    query: CallbackQuery,
    callback_data: NewDealCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    client_id, lead_id = callback_data.client_id, callback_data.lead_id
    if lead_id:
        deal = await deals.create_for_lead(
            session, lead_id, client_id=client_id, by=actor, company=company
        )
    else:
        deal = await deals.create_for_client(session, client_id, by=actor, company=company)
    card = await deals.card(session, deal.id, by=actor)
    screen = deal_screens.card(card, ui.t, await actors.zone_of(session, actor, company.timezone))
    # A lead card is kept up to date through the outbox: the deal gets a message of its own.
    await (ui.send(screen) if lead_id else ui.edit(screen))
    return query.answer()


async def deal_button(
    query: CallbackQuery,
    callback_data: DealCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    if await state.get_state() in DealDialog.__all_states_names__:
        await state.clear()  # a press on a deal's button leaves a half-typed dialog
    action, deal_id, arg, t = callback_data.action, callback_data.deal_id, callback_data.arg, ui.t
    done = await _act(session, action, deal_id, arg, actor=actor, company=company)
    card = await deals.card(session, deal_id, by=actor)
    tz = await actors.zone_of(session, actor, company.timezone)
    if action in _PROMPTS:
        dialog, key = _PROMPTS[action]
        await state.set_state(dialog)
        await state.set_data({"deal_id": deal_id})
        await ui.edit(deal_screens.prompt(key, card, t))
    elif action is DealAction.LOST and arg == len(deals.LOST_REASONS):  # "other": typed
        await state.set_state(DealDialog.lost_other)
        await state.set_data({"deal_id": deal_id})
        await ui.edit(deal_screens.prompt("deal.lost_other_prompt", card, t))
    elif action is DealAction.STAGE and not arg:
        await ui.edit(deal_screens.stage_picker(card, t))
    elif action is DealAction.LOST and not arg:
        await ui.edit(deal_screens.lost_reasons(card, t))
    elif action is DealAction.HISTORY:
        moves = await deals.history(session, deal_id, by=actor)
        await ui.edit(deal_screens.history(card, moves, t, tz))
    else:
        await ui.edit(deal_screens.card(card, t, tz))
    return query.answer(t(done, stage=card.stage.name) if done else None)


async def _act(
    session: AsyncSession,
    action: DealAction,
    deal_id: int,
    arg: int,
    *,
    actor: Actor,
    company: Company,
) -> str | None:
    """Make the change a press asks for, if any; the key of the alert that says it did."""
    if action is DealAction.STAGE and arg:
        await deals.move_to_stage(session, deal_id, arg, by=actor, company=company)
        return "deal.moved"
    if action is DealAction.WON:
        await deals.win(session, deal_id, by=actor, company=company)
        return "deal.won"
    if action is DealAction.LOST and arg:
        code = _reason(arg)
        if code == deals.OTHER:
            return None  # typed next
        await deals.lose(session, deal_id, code, by=actor, company=company)
        return "deal.lost"
    if action is DealAction.REOPEN:
        await deals.reopen(session, deal_id, by=actor, company=company)
        return "deal.reopened"
    return None


def _reason(number: int) -> str:
    if not 1 <= number <= len(deals.LOST_REASONS):
        raise InvalidInput("no such reason", key="deal.bad_reason")
    return deals.LOST_REASONS[number - 1]


async def typed(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    """The amount, cost, note or reason typed in a dialog; a mistake is answered and the
    dialog waits for another try."""
    deal_id, text, step = (await state.get_data())["deal_id"], message.text or "", None
    current = await state.get_state()
    if current == DealDialog.amount.state:
        await deals.set_amount(session, deal_id, text, by=actor, company=company)
    elif current == DealDialog.cost.state:
        await deals.set_cost(session, deal_id, text, by=actor, company=company)
    elif current == DealDialog.note.state:
        await deals.add_note(session, deal_id, text, by=actor, company=company)
        step = "deal.note_added"
    else:
        await deals.lose(session, deal_id, deals.OTHER, text=text, by=actor, company=company)
        step = "deal.lost"
    await state.clear()
    if step:
        await ui.say(step)
    card = await deals.card(session, deal_id, by=actor)
    await ui.send(
        deal_screens.card(card, ui.t, await actors.zone_of(session, actor, company.timezone))
    )


async def cancel(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.clear()
    await ui.say("deal.cancelled")


async def show_my_deals(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    if await state.get_state() in DealDialog.__all_states_names__:
        await state.clear()
    await ui.send(await _list(session, ListCallback(view=ListView.MY_DEALS), actor, company, ui.t))


async def list_button(
    query: CallbackQuery,
    callback_data: ListCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    await ui.edit(await _list(session, callback_data, actor, company, ui.t))
    return query.answer()


async def _list(
    session: AsyncSession, data: ListCallback, actor: Actor, company: Company, t: Translator
) -> Screen:
    currency, manager = company.currency, access.can_see_office_deals(actor)
    if data.view is ListView.DEALS_BY_EMPLOYEE:
        totals = await deals.by_employee(session, by=actor)
        return deal_screens.by_employee(totals, t, currency=currency)
    if data.view is ListView.STAGE_DEALS:
        page = await deals.stage_deals(
            session, data.stage_id, by=actor, employee_id=data.employee_id, page=data.page
        )
        return deal_screens.stage_deals(page, t, employee_id=data.employee_id, currency=currency)
    employee_id = 0 if data.view is ListView.OFFICE_DEALS else data.employee_id or actor.id
    summary = await deals.by_stage(session, by=actor, employee_id=employee_id)
    if employee_id == actor.id:
        title = t("deal.list.mine")
    elif employee_id:
        title = t("deal.list.employee", name=summary.employee or "")
    else:
        title = t("deal.list.all" if actor.office_id is None else "deal.list.office")
    return deal_screens.by_stage(
        summary, t, title=title, employee_id=employee_id, manager=manager, currency=currency
    )
