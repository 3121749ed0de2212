"""Screens: what the bot shows an employee in answer to a command, a search or a button.

A screen is rendered by the handler (text in Telegram HTML, built with aiogram's formatting
utilities so that markup is escaped by construction; buttons with typed callback data) and
written to the outbox like every other outgoing message (`SCREEN_KIND`). A press on a button
edits the message it is on (`Ui.edit`), so a conversation with the bot is one message that
changes, not a stream of new ones; a command or a typed text gets a new message (`Ui.send`).

    await ui.show(Screen(as_html(Bold(t("find.title")), ...), [[button("‹", data)]]))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.formatting import Text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.html import as_html
from config.i18n import Translator
from models import Channel, OutboxLane
from services import outbox
from services.context import Company

SCREEN_KIND = "screen"
Button = dict[str, str]


def button(text: str, data: CallbackData | str) -> Button:
    """A button that calls back with `data` (typed callback data, packed here)."""
    return {"text": text, "callback_data": data.pack() if isinstance(data, CallbackData) else data}


def url_button(text: str, url: str) -> Button:
    return {"text": text, "url": url}


def inline_query_button(text: str, query: str = "") -> Button:
    """Opens inline mode in this chat with `query` typed (`@bot query`)."""
    return {"text": text, "switch_inline_query_current_chat": query}


@dataclass(frozen=True)
class Screen:
    text: str  # Telegram HTML
    keyboard: Sequence[Sequence[Button]] = field(default_factory=tuple)

    @classmethod
    def of(cls, text: Text | str, keyboard: Sequence[Sequence[Button]] = ()) -> Screen:
        """From aiogram formatting nodes (escaped by construction) or ready HTML."""
        return cls(as_html(text) if isinstance(text, Text) else text, keyboard)

    def payload(self, *, edit_message_id: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "keyboard": [list(r) for r in self.keyboard]}
        if edit_message_id is not None:
            data["edit_message_id"] = edit_message_id
        return data


def markup_of(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(**b) for b in row] for row in payload.get("keyboard") or []]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


class Ui:
    """How a handler answers the person who wrote or pressed: through the outbox, in order."""

    def __init__(
        self,
        session: AsyncSession,
        company: Company,
        *,
        chat_id: int,
        t: Translator,
        message_id: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        self.session, self.company, self.chat_id, self.t = session, company, chat_id, t
        self.message_id = message_id  # the message the pressed button is on, if any
        self.thread_id = thread_id  # the forum topic of a group the update came from

    async def send(self, screen: Screen) -> None:
        """A new message."""
        await self._enqueue(screen.payload())

    async def edit(self, screen: Screen) -> None:
        """Replace the message the pressed button is on (a new message if there is none)."""
        await self._enqueue(screen.payload(edit_message_id=self.message_id))

    async def show(self, screen: Screen) -> None:
        """Edit in place when answering a button, send when answering a message."""
        await (self.edit(screen) if self.message_id is not None else self.send(screen))

    async def say(self, key: str, *, once: str | None = None, **params: Any) -> None:
        """A short text message (escaped here: params are text, never markup); with `once`,
        said only the first time for that key (in this chat)."""
        screen = Screen.of(Text(self.t(key, **params)))
        await self._enqueue(screen.payload(), dedupe=f"say:{self.chat_id}:{once}" if once else None)

    async def _enqueue(self, payload: dict[str, Any], dedupe: str | None = None) -> None:
        await outbox.enqueue(
            self.session,
            now=self.company.clock.now(),
            channel=Channel.TELEGRAM,
            recipient=self.chat_id,
            kind=SCREEN_KIND,
            payload=payload,
            locale=self.t.locale,
            lane=OutboxLane.INTERACTIVE,
            thread_id=self.thread_id,
            dedupe_key=dedupe,
        )
