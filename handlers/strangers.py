"""Button presses nobody else handled, so no button spins forever: strangers (a forwarded
card, a fired employee) are told they are not staff; an employee pressing a button that no
longer means anything (an old keyboard) is told it is gone. Nothing else happens."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from config.i18n import Translator
from handlers.staff import IsEmployee


def make_router() -> Router:
    router = Router(name="unhandled buttons")
    router.callback_query.register(not_an_employee, ~IsEmployee())
    router.callback_query.register(stale_button)
    return router


async def not_an_employee(query: CallbackQuery, t: Translator) -> None:
    await query.answer(t("alert.not_employee"), show_alert=True)


async def stale_button(query: CallbackQuery, t: Translator) -> None:
    await query.answer(t("error.not_found"), show_alert=True)
