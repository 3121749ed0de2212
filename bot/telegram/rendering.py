"""What the Telegram sender's templates produce and need (bot.telegram.sender and the
templates of each feature share these)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import tzinfo

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import GiveUp
from bot.media import MediaSources
from bot.telegram import cards
from config.i18n import Translator
from models import Channel
from services import actors
from services.clock import Clock, SystemClock
from services.context import Company
from services.conversations import Media
from services.outbox import Claimed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None
    edit_message_id: int | None = None
    media: tuple[str, str] | None = None  # ("photo" | "document", Telegram file_id): a caption
    upload: Upload | None = None  # a file from another channel, fetched and uploaded when sent
    reply_to: int | None = None  # the message in this chat it answers
    fallback: str | None = None  # the text to send instead when the file cannot be fetched
    composite_id: bool = False  # the id kept is "chat:message" (a client's chat, not staff's)
    picture: bytes | None = None  # a PNG drawn here (a chart), sent as a photo with the text


@dataclass(frozen=True)
class Upload:
    method: str  # "photo", "document", "video", "audio", "voice"
    media: Media


@dataclass(frozen=True)
class Reaction:
    """A status mark on a message in the chat (services.conversations.notices)."""

    message_id: int
    emoji: str


@dataclass(frozen=True)
class Context:
    """What templates need besides the row: the admin web's address, the company's zone, and
    the clock (a card says "overdue" by it)."""

    public_url: str | None
    timezone: tzinfo
    clock: Clock = field(default_factory=SystemClock)
    company: Company | None = None  # the rest of the company's values (reports' thresholds)


Renderer = Callable[[AsyncSession, Claimed, Translator, Context], Awaitable[cards.Rendered]]


async def recipient(session: AsyncSession, row: Claimed, context: Context) -> actors.Seen:
    """Who the chat belongs to (their clock shows a card's times), if an employee."""
    try:
        chat_id = int(row.recipient)
    except ValueError:
        return actors.NOBODY
    return await actors.seen(session, chat_id, context.timezone)


async def input_file(media: Media, sources: MediaSources) -> str | BufferedInputFile | None:
    """A file to send in Telegram: our bot's own by its id, another channel's fetched now (a
    provider's link lives minutes). None: it cannot be had any more (say so instead)."""
    if media.source == Channel.TELEGRAM:
        return media.ref
    source = sources.get(media.source)
    try:
        if source is None:
            raise GiveUp(f"no way to fetch files from {media.source}")
        fetched = await source.fetch(media.ref)
    except GiveUp as exc:
        log.warning("file %s of %s not fetched: %s", media.ref, media.source, exc)
        return None
    name = media.filename or fetched.filename or _file_name(fetched.mime or media.mime)
    return BufferedInputFile(fetched.data, filename=name)


def _file_name(mime: str | None) -> str:
    extension = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
        "application/pdf": "pdf",
        "audio/ogg": "ogg",
        "video/mp4": "mp4",
    }.get((mime or "").split(";")[0].strip(), "bin")
    return f"file.{extension}"


def clock_of(seen: actors.Seen, context: Context) -> tzinfo:
    """The recipient's clock: their office's zone (seen with them), else the company's."""
    return (seen.actor.zone if seen.actor else None) or context.timezone
