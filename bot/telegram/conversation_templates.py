"""Client conversations in Telegram, as the sender renders them: a client's message relayed to
an employee (its file fetched when sent), an employee's reply to a client of the bot, a text of
ours to a client, a delivery failure, the conversation so far, and a reply's status mark."""

from __future__ import annotations

import html
from typing import Any

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import GiveUp
from bot.telegram import cards, conversation_screens, screens
from bot.telegram.limits import CAPTION_LIMIT, TEXT_LIMIT, fit_text
from bot.telegram.rendering import (
    Context,
    Reaction,
    Rendered,
    Renderer,
    Upload,
    clock_of,
    recipient,
)
from config.i18n import Translator
from models import Role
from services import actors, conversations
from services.outbox import Claimed


async def relayed(
    session: AsyncSession, row: Claimed, t: Translator, _context: Context
) -> Rendered:
    """A client's message shown to an employee (with its file, fetched when sent)."""
    view = await conversations.message(session, int(row.payload["message_id"]))
    quoted = await conversations.message(session, view.quoted_id) if view.quoted_id else None
    seen = await recipient(session, row, _context)
    text, rows = conversation_screens.relayed(view, t, quoted=quoted, manager=_manages(seen))
    reply_to = await conversations.copy_in(session, view.quoted_id, int(row.recipient))
    markup = screens.markup_of({"keyboard": rows})
    upload = _upload_of(view)
    fallback = None
    if upload is not None:
        fallback = fit_text(f"{text}\n{html.escape(t('conversation.kind.media_lost'))}", TEXT_LIMIT)
    return Rendered(
        fit_text(text, CAPTION_LIMIT if upload else TEXT_LIMIT),
        markup,
        upload=upload,
        reply_to=reply_to,
        fallback=fallback,
    )


async def to_client(session: AsyncSession, row: Claimed, _t: Translator, _c: Context) -> Rendered:
    """An employee's reply to a client who writes to the bot."""
    view = await conversations.message(session, int(row.payload["message_id"]))
    quoted = view.quoted_provider_id or ""
    chat, _, message_id = quoted.partition(":")
    reply_to = int(message_id) if chat == row.recipient and message_id.isdigit() else None
    upload = _upload_of(view)
    text = html.escape(view.text or "")
    return Rendered(
        fit_text(text, CAPTION_LIMIT if upload else TEXT_LIMIT),
        None,
        upload=upload,
        reply_to=reply_to,
        composite_id=True,
    )


async def history(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> cards.Rendered:
    """A conversation so far, for the employee who now answers it."""
    conversation_id = int(row.payload["conversation_id"])
    about = await conversations.about(session, conversation_id)
    said = await conversations.history(session, conversation_id)
    seen = await recipient(session, row, context)
    text, rows = conversation_screens.history(
        about, said, t, clock_of(seen, context), manager=_manages(seen)
    )
    return text, screens.markup_of({"keyboard": rows})


async def client_notice(
    _session: AsyncSession, row: Claimed, t: Translator, _context: Context
) -> Rendered:
    """A text of ours to a client of the bot (with the share-my-phone button, or taking it
    away once the phone is shared)."""
    text = html.escape(str(row.payload.get("text") or t(str(row.payload["key"]))))
    markup: Any = None
    if row.payload.get("request_contact"):
        share = KeyboardButton(text=t("client_chat.share_button"), request_contact=True)
        markup = ReplyKeyboardMarkup(
            keyboard=[[share]], resize_keyboard=True, one_time_keyboard=True
        )
    elif row.payload.get("remove_keyboard"):
        markup = ReplyKeyboardRemove()
    return Rendered(fit_text(text, TEXT_LIMIT), markup)


async def delivery_failed(
    session: AsyncSession, row: Claimed, t: Translator, _context: Context
) -> Rendered:
    view = await conversations.message(session, int(row.payload["message_id"]))
    failure = conversations.explain(view.error)
    templates = conversations.rules_of(view.channel).templates
    text, rows = conversation_screens.failed(view, failure, t, templates)
    reply_to = await conversations.copy_in(session, view.id, int(row.recipient))
    return Rendered(text, screens.markup_of({"keyboard": rows}), reply_to=reply_to)


async def status_mark(session: AsyncSession, row: Claimed) -> Reaction:
    view = await conversations.message(session, int(row.payload["message_id"]))
    emoji = conversation_screens.STATUS_MARKS.get(view.status)
    copy = await conversations.copy_in(session, view.id, int(row.recipient))
    if emoji is None or copy is None:
        raise GiveUp(f"nothing to mark ({view.status.value})")
    return Reaction(copy, emoji)


def _manages(seen: actors.Seen) -> bool:
    return seen.actor is not None and seen.actor.role in (Role.MANAGER, Role.ADMIN)


_UPLOADS = {
    conversations.Kind.IMAGE: "photo",
    conversations.Kind.VIDEO: "video",
    conversations.Kind.AUDIO: "audio",
    conversations.Kind.VOICE: "voice",
}


def _upload_of(view: conversations.MessageView) -> Upload | None:
    media = view.media
    if media is None:
        return None
    if view.details.get("round"):
        return Upload("video_note", media)
    return Upload(_UPLOADS.get(view.kind, "document"), media)  # type: ignore[call-overload]


TEMPLATES: dict[str, Renderer] = {
    conversations.CLIENT_MESSAGE: relayed,  # type: ignore[dict-item]
    conversations.CLIENT_REPLY: to_client,  # type: ignore[dict-item]
    conversations.DELIVERY_FAILED: delivery_failed,  # type: ignore[dict-item]
    conversations.CLIENT_NOTICE: client_notice,  # type: ignore[dict-item]
    conversations.HISTORY: history,
}
