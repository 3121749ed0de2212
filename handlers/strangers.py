"""People who are not (or no longer) active employees.

Former employees (deactivated; `former` from bot.telegram.middlewares) lose the bot at once:
`make_former_router` comes before every feature, so each command, text, button and inline
query of theirs is answered "your access is off" and nothing else happens (a dialog they were
in is dropped). Strangers who never were employees are told the bot is for staff.

Button presses nobody else handled, so no button spins forever (`make_router`, last): strangers
(a forwarded card) are told they are not staff; an employee pressing a button that no longer
means anything (an old keyboard) is told it is gone."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.methods import AnswerCallbackQuery, AnswerInlineQuery
from aiogram.types import (
    CallbackQuery,
    InlineQuery,
    InlineQueryResultsButton,
    Message,
    TelegramObject,
)

from bot.telegram.screens import Ui
from config.i18n import Translator
from handlers.filters import PrivateChat
from handlers.router import Router
from handlers.staff import IsEmployee

NO_ACCESS = "menu.former.no_access"


class IsFormerEmployee(Filter):
    async def __call__(self, event: TelegramObject, former: bool = False) -> bool:
        return former


def make_former_router() -> Router:
    router = Router(name="former employees")
    for observer in (router.message, router.callback_query, router.inline_query):
        observer.filter(IsFormerEmployee())
    router.message.filter(PrivateChat())  # not a word to every group they are in
    router.message.register(former_writes)
    router.callback_query.register(former_presses)
    router.inline_query.register(former_searches)
    return router


async def former_writes(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.clear()
    await ui.say(NO_ACCESS)


async def former_presses(
    query: CallbackQuery, state: FSMContext, t: Translator
) -> AnswerCallbackQuery:
    await state.clear()
    return query.answer(t(NO_ACCESS), show_alert=True)


async def former_searches(query: InlineQuery, t: Translator) -> AnswerInlineQuery:
    """No results, and a line above them saying why (it opens the chat with the bot)."""
    button = InlineQueryResultsButton(text=t("menu.former.inline"), start_parameter="access")
    return query.answer([], cache_time=0, is_personal=True, button=button)


def make_router() -> Router:
    router = Router(name="unhandled buttons")
    router.callback_query.register(not_an_employee, ~IsEmployee())
    router.callback_query.register(stale_button)
    return router


async def not_an_employee(query: CallbackQuery, t: Translator) -> AnswerCallbackQuery:
    return query.answer(t("alert.not_employee"), show_alert=True)


async def stale_button(query: CallbackQuery, t: Translator) -> AnswerCallbackQuery:
    return query.answer(t("error.not_found"), show_alert=True)
