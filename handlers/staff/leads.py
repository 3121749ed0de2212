"""The buttons on a lead card (Take / Non-target / Spam) and on a digest of new leads (open
one lead's card)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from config.i18n import Translator
from handlers.callbacks import LeadAction, LeadCallback
from models import LeadStatus
from services import leads
from services.actors import Actor
from services.context import Company

_REJECT = {LeadAction.NON_TARGET: LeadStatus.NON_TARGET, LeadAction.SPAM: LeadStatus.SPAM}
_ALERT = {
    LeadAction.TAKE: "alert.taken",
    LeadAction.NON_TARGET: "alert.non_target",
    LeadAction.SPAM: "alert.spam",
}


def make_router() -> Router:
    router = Router(name="staff.leads")
    router.callback_query.register(lead_button, LeadCallback.filter())
    return router


async def lead_button(
    query: CallbackQuery,
    callback_data: LeadCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
) -> None:
    if callback_data.action is LeadAction.OPEN:
        await leads.open_card(session, callback_data.lead_id, by=actor, company=company)
        await query.answer(t("digest.opened"))
        return
    if callback_data.action is LeadAction.TAKE:
        await leads.take(session, callback_data.lead_id, by=actor, company=company)
    else:
        await leads.reject(
            session, callback_data.lead_id, _REJECT[callback_data.action], by=actor, company=company
        )
    # The card itself is edited through the outbox (every copy of it, in order).
    await query.answer(t(_ALERT[callback_data.action]))
