"""The one error router: domain errors become a localized alert or reply; bugs are logged."""

from __future__ import annotations

import logging

from aiogram.types import ErrorEvent

from config.i18n import Translator
from handlers.router import Router
from services.errors import DomainError

log = logging.getLogger(__name__)


def message_for(error: DomainError, t: Translator) -> str:
    params = dict(error.params)
    if "status" in params:
        params["status"] = t(f"status.{params['status']}")
    return t(error.key, message=error.message, **params)


def make_router() -> Router:
    router = Router(name="errors")
    router.error.register(on_error)
    return router


async def on_error(event: ErrorEvent, t: Translator | None = None) -> None:
    update, error = event.update, event.exception
    t = t or Translator(None)
    if isinstance(error, DomainError):
        text = message_for(error, t)
    else:
        log.error("update %s failed", update.update_id, exc_info=error)
        text = t("error.internal")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception as exc:  # the chat may be gone or odd; the update must still end here
        log.warning("could not tell update %s about its error: %r", update.update_id, exc)
