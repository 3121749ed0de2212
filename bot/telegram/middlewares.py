"""Middlewares provide context to handlers and decide nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, Update, User

from bot.telegram import dialogs
from bot.telegram.screens import Ui
from config.i18n import Translator
from metrics import TELEGRAM_UPDATES
from models.db import Database
from services import actors, inbound
from services.context import Company

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UnitOfWorkMiddleware(BaseMiddleware):
    """One unit of work per update; a redelivered update (same update_id) is skipped. Who is
    writing (`seen`: services.actors) is read in the same round trip as the delivery record."""

    def __init__(self, db: Database, company: Company) -> None:
        self.db, self.company = db, company

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        user: User | None = data.get("event_from_user")
        along = actors.seen_statement(user.id) if user is not None else None
        async with self.db.unit_of_work() as session:
            first, row = await inbound.record_with(
                session,
                source="telegram",
                external_id=str(event.update_id),
                clock=self.company.clock,
                along=along,
            )
            if not first:
                TELEGRAM_UPDATES.labels("duplicate").inc()
                return None
            data["session"], data["company"] = session, self.company
            data["seen"] = actors.seen_from(row, self.company.timezone)
            result = await handler(event, data)
        TELEGRAM_UPDATES.labels("handled").inc()
        return result


class EmployeeMiddleware(BaseMiddleware):
    """Who is writing: `actor` (None for strangers), `former` (True for an employee whose
    access was turned off: they are answered "no access", handlers.strangers) and `t`, texts
    in their language."""

    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        seen: actors.Seen = data.get("seen", actors.NOBODY)
        actor, former = seen.actor, seen.former
        data["actor"], data["former"] = actor, former
        locale = (actor.locale if actor else None) or _supported(user) or self.default_locale
        data["t"] = t = Translator(locale)
        if user is not None and "session" in data:
            data["ui"] = _ui(event, data, user, t)
        return await handler(event, data)


def _ui(event: TelegramObject, data: dict[str, Any], user: User, t: Translator) -> Ui:
    """Answers go to the chat the update came from (the user's private chat for inline
    queries); a pressed button's message is the one `ui.edit` replaces."""
    chat = data.get("event_chat")
    message_id, thread_id = None, None
    if isinstance(event, Update) and event.callback_query is not None:
        message = event.callback_query.message
        message_id = message.message_id if message is not None else None
        thread_id = _topic_of(message)
    elif isinstance(event, Update) and event.message is not None:
        thread_id = _topic_of(event.message)
    return Ui(
        data["session"],
        data["company"],
        chat_id=chat.id if chat is not None else user.id,
        t=t,
        message_id=message_id,
        thread_id=thread_id,
    )


def _topic_of(message: object) -> int | None:
    """The forum topic a group message is in (answers go there, not to the General topic)."""
    if getattr(message, "is_topic_message", None):
        return getattr(message, "message_thread_id", None)
    return None


def _supported(user: User | None) -> str | None:
    code = (user.language_code or "")[:2] if user else ""
    return code if code in ("ru", "en") else None


class DialogMiddleware(BaseMiddleware):
    """Dialogs abandoned for DIALOG_TTL expire politely (bot.telegram.dialogs): the person is
    told so, and a text they send is not taken as the answer to a question asked long ago."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        chat = data.get("event_chat")
        if state is None or data.get("former") or "ui" not in data:
            return await handler(event, data)
        if chat is not None and chat.type != "private":
            return await handler(event, data)  # a group's modes keep their own time (team)
        now = data["company"].clock.now()
        if data.get("raw_state") is not None and dialogs.expired(await state.get_data(), now):
            await state.clear()
            data["raw_state"], data["dialog_expired"] = None, True
            await data["ui"].say("menu.dialog.expired")
            if _is_plain_text(event):
                return None  # it answered a question nobody is asking any more
        result = await handler(event, data)
        if await state.get_state() is not None:
            await state.update_data({dialogs.TOUCHED_AT: now.isoformat()})
        return result


def _is_plain_text(event: TelegramObject) -> bool:
    """A message that is not a command (commands and buttons go on as usual)."""
    message = event.message if isinstance(event, Update) else None
    return message is not None and not (message.text or "").startswith("/")
