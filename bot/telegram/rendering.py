"""What the Telegram sender's templates produce and need (bot.telegram.sender and the
templates of each feature share these)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import tzinfo

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import cards
from config.i18n import Translator
from services import actors
from services.clock import Clock, SystemClock
from services.conversations import Media
from services.outbox import Claimed


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


Renderer = Callable[[AsyncSession, Claimed, Translator, Context], Awaitable[cards.Rendered]]


async def recipient(session: AsyncSession, row: Claimed, context: Context) -> actors.Seen:
    """Who the chat belongs to (their clock shows a card's times), if an employee."""
    try:
        chat_id = int(row.recipient)
    except ValueError:
        return actors.NOBODY
    return await actors.seen(session, chat_id, context.timezone)


def clock_of(seen: actors.Seen, context: Context) -> tzinfo:
    """The recipient's clock: their office's zone (seen with them), else the company's."""
    return (seen.actor.zone if seen.actor else None) or context.timezone
