"""The buttons on a lead card: Take; Non-target / Spam, which show the reasons to pick from
(and Cancel) on the pressed copy; Reassign (managers), which shows whom to; and on a digest of
new leads, opening one lead's card. The final choice is one service call; every copy of the
card is then re-rendered through the outbox (services.notify), the pressed one included."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import cards, lead_screens
from bot.telegram.screens import Screen, Ui
from config.i18n import Translator
from handlers.callbacks import (
    LeadAction,
    LeadCallback,
    LeadCardCallback,
    LeadReasonCallback,
    LeadReassignCallback,
    Presses,
)
from handlers.router import Router
from models import LeadStatus
from services import actors, leads
from services.actors import Actor
from services.context import Company
from services.errors import InvalidInput
from services.leads.cards import LeadCard

_REJECT = {LeadAction.NON_TARGET: LeadStatus.NON_TARGET, LeadAction.SPAM: LeadStatus.SPAM}
_ALERT = {
    LeadAction.TAKE: "alert.taken",
    LeadAction.NON_TARGET: "alert.non_target",
    LeadAction.SPAM: "alert.spam",
}


def make_router() -> Router:
    router = Router(name="staff.leads")
    router.callback_query.filter(
        Presses(LeadCallback, LeadReasonCallback, LeadCardCallback, LeadReassignCallback)
    )
    router.callback_query.register(lead_button, LeadCallback.filter())
    router.callback_query.register(reason_button, LeadReasonCallback.filter())
    router.callback_query.register(card_button, LeadCardCallback.filter())
    router.callback_query.register(reassign_button, LeadReassignCallback.filter())
    return router


async def lead_button(
    query: CallbackQuery,
    callback_data: LeadCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> AnswerCallbackQuery:
    action, lead_id = callback_data.action, callback_data.lead_id
    if action is LeadAction.OPEN:
        await leads.open_card(session, lead_id, by=actor, company=company)
        return query.answer(t("digest.opened"))
    if action is LeadAction.TAKE:
        await leads.take(session, lead_id, by=actor, company=company)
        # The card itself is edited through the outbox (every copy of it, in order).
        return query.answer(t(_ALERT[action]))
    codes = await leads.closing_reasons(session, lead_id, _REJECT[action], by=actor)
    card = await leads.cards.load_for(session, lead_id, by=actor)
    card_html = await _card_html(session, card, actor, company, t)
    await ui.edit(lead_screens.reason_picker(card_html, lead_id, action, codes, t))
    return query.answer()


async def reason_button(
    query: CallbackQuery,
    callback_data: LeadReasonCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
) -> AnswerCallbackQuery:
    status = _REJECT.get(callback_data.kind)
    if status is None:
        raise InvalidInput("a lead can be rejected only as non-target or spam")
    await leads.reject(
        session,
        callback_data.lead_id,
        status,
        reason=callback_data.reason,
        by=actor,
        company=company,
    )
    return query.answer(t(_ALERT[callback_data.kind]))


async def card_button(
    query: CallbackQuery,
    callback_data: LeadCardCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> AnswerCallbackQuery:
    """Cancel on a picker: the card with its own buttons again."""
    card = await leads.cards.load_for(session, callback_data.lead_id, by=actor)
    html = await _card_html(session, card, actor, company, t)
    await ui.edit(Screen(html, cards.lead_keyboard(card, t, viewer=actor)))
    return query.answer(t("leads.cancelled"))


async def reassign_button(
    query: CallbackQuery,
    callback_data: LeadReassignCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> AnswerCallbackQuery:
    lead_id = callback_data.lead_id
    if callback_data.employee_id:
        done = await leads.assign(
            session, lead_id, to=callback_data.employee_id, by=actor, company=company
        )
        return query.answer(t("queue.assigned", lead_id=lead_id, name=done.employee_name))
    page = await leads.lists.reassign_candidates(
        session, lead_id, by=actor, company=company, page=callback_data.page
    )
    card = await leads.cards.load_for(session, lead_id, by=actor)
    card_html = await _card_html(session, card, actor, company, t)
    await ui.edit(lead_screens.reassign_picker(card_html, page, t))
    return query.answer()


async def _card_html(
    session: AsyncSession, card: LeadCard, actor: Actor, company: Company, t: Translator
) -> str:
    tz = await actors.zone_of(session, actor, company.timezone)
    return cards.lead_card_text(card, t, tz=tz, viewer=actor)
