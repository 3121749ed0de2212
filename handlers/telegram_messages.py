"""A Telegram message as the conversations service understands it (whoever wrote it)."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import Message

from models import Channel
from services.conversations import Kind, Media


@dataclass(frozen=True)
class Content:
    kind: str
    text: str | None
    media: Media | None = None
    details: dict[str, object] | None = None


def content(message: Message) -> Content:
    """What a message holds: its text, or its file (by our bot's file_id) and caption."""
    caption = message.caption or None
    if message.photo:
        file = message.photo[-1]
        return Content(Kind.IMAGE, caption, _media(file.file_id, "image/jpeg"))
    if message.video_note is not None:  # a round video: sent on only as a video note
        media = _media(message.video_note.file_id, "video/mp4")
        return Content(Kind.VIDEO, caption, media, {"round": True})
    for kind, item in (
        (Kind.VOICE, message.voice),
        (Kind.AUDIO, message.audio),
        (Kind.VIDEO, message.video),
        (Kind.DOCUMENT, message.document),
    ):
        if item is not None:
            name = getattr(item, "file_name", None)
            return Content(
                kind, caption, _media(item.file_id, getattr(item, "mime_type", None), name)
            )
    if message.sticker is not None:  # shown as its emoji: a sticker's file is a sticker only
        return Content(Kind.STICKER, message.sticker.emoji)
    if message.location is not None:
        point = message.location
        details = {"latitude": point.latitude, "longitude": point.longitude}
        return Content(Kind.LOCATION, None, None, details)
    if message.contact is not None:
        who = " ".join(x for x in (message.contact.first_name, message.contact.last_name) if x)
        return Content(Kind.CONTACTS, f"{who} {message.contact.phone_number}".strip())
    if message.text is not None:
        return Content(Kind.TEXT, message.text)
    return Content(Kind.UNSUPPORTED, None)


def _media(file_id: str, mime: str | None, name: str | None = None) -> Media:
    return Media(source=Channel.TELEGRAM, ref=file_id, mime=mime, filename=name)


def provider_id(chat_id: int, message_id: int) -> str:
    """A Telegram message's id is unique only in its chat: "chat:message"."""
    return f"{chat_id}:{message_id}"
