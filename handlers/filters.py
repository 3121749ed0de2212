"""Filters for message handlers, as coroutines.

aiogram runs a filter that is a plain function (a magic `F` expression, a `State` used as a
filter) in a worker thread (`asyncio.to_thread`), per message and per handler it passes: a
thread hop costs more than the check. These are the same checks as `Filter` classes, which it
awaits in place. Use them (and `StateFilter`) instead of `F...` and bare states.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message


class PrivateChat(Filter):
    """The person's own chat with the bot (not a group the bot is in)."""

    async def __call__(self, message: Message) -> bool:
        return message.chat.type == "private"


class TypedText(Filter):
    """A text that is not a command: a command typed mid-dialog is a command (another
    feature's), not the answer to the question asked. "//" starts a note, not a command."""

    async def __call__(self, message: Message) -> bool:
        text = message.text or ""
        return bool(text) and (not text.startswith("/") or text.startswith("//"))


class SharedContact(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.contact is not None


class ForwardedFromPerson(Filter):
    """A message forwarded from a person (their account shown or hidden), not a channel."""

    async def __call__(self, message: Message) -> bool:
        origin = message.forward_origin
        return origin is not None and origin.type in ("user", "hidden_user")


class PhotoOrFile(Filter):
    """A photo or a document (a file of any kind)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.photo) or message.document is not None


class RepliesToBot(Filter):
    """A message sent as a Telegram reply to one of the bot's messages."""

    async def __call__(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.is_bot
