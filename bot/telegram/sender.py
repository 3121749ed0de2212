"""Delivers outbox rows to Telegram: renders the card, sends or edits, classifies failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardMarkup,
    ReactionTypeEmoji,
    ReplyParameters,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import GiveUp, NothingToSend, RetryLater, Sent
from bot.media import Fetched, MediaSources
from bot.telegram import (
    bulk_templates,
    card_templates,
    commands,
    conversation_templates,
    report_templates,
    screens,
    team_steps,
)
from bot.telegram.limits import CAPTION_LIMIT, TEXT_LIMIT, fit_text
from bot.telegram.rendering import (
    Context,
    Reaction,
    Rendered,
    Renderer,
    input_file,
)
from config.i18n import Translator
from models import Channel
from services import (
    conversations,
    employees,
    escalations,
    notify,
    outbox,
    reports,
    team,
)
from services.clock import Clock, SystemClock
from services.context import Company
from services.errors import NotFound
from services.outbox import Claimed

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 15
# Telegram's answers for a message that can no longer be edited (deleted, or too old).
_UNEDITABLE = ("message to edit not found", "message can't be edited")


@dataclass(frozen=True)
class MenuUpdate:
    """A command list for one scope and language; `commands` None deletes it."""

    scope: BotCommandScopeChat | BotCommandScopeAllPrivateChats
    language_code: str | None
    commands: list[BotCommand] | None


class TelegramSender:
    channel = Channel.TELEGRAM

    def __init__(
        self,
        bot: Bot,
        request_timeout: float = REQUEST_TIMEOUT,
        public_url: str | None = None,
        timezone: tzinfo = UTC,
        clock: Clock | None = None,
        media: MediaSources | None = None,
        slot: team_steps.Slot | None = None,
        company: Company | None = None,
    ) -> None:
        """`timezone`: the company's, for a recipient whose office has no zone of its own;
        `media`: where files of other channels are fetched from (bot.media); `slot(chat)`:
        waits for the chat's rate limit, for a send that makes more than one call."""
        self.bot = bot
        self.media = media if media is not None else {}
        self.request_timeout = request_timeout  # seconds
        self.context = Context(public_url, timezone, clock or SystemClock(), company)
        self.team = team_steps.TeamSteps(bot, self.media, request_timeout, slot)

    async def reachable(self) -> bool:
        """Does the Bot API answer at all (after network errors)? A cheap getMe."""
        try:
            await self.bot.get_me(request_timeout=5)  # type: ignore[call-arg]
        except (TimeoutError, TelegramServerError, TelegramNetworkError):
            return False
        except Exception:  # it answered, if only with an error: it is reachable
            return True
        return True

    async def prepare(
        self, row: Claimed, session: AsyncSession
    ) -> Rendered | MenuUpdate | Reaction | team_steps.Step | NothingToSend:
        if row.kind == team.TEAM_SYNC:
            return await team_steps.prepare(session, row, self.context)
        if row.kind == notify.MENU:
            return await _menu(session, row)
        if row.kind == conversations.STATUS_MARK:
            return await conversation_templates.status_mark(session, row)
        found = await self._render(row, session)
        if isinstance(found, Rendered):
            return found
        text, markup, media = found
        if row.kind == screens.SCREEN_KIND and row.payload.get("edit_message_id"):
            return Rendered(text, markup, int(row.payload["edit_message_id"]))
        if row.edit_of_id is None:
            return Rendered(text, markup, media=media)
        message_id = await outbox.provider_message_id(session, row.edit_of_id)
        if message_id is None:
            raise GiveUp("the message to edit was never delivered")
        return Rendered(text, markup, int(message_id))

    async def send(
        self, row: Claimed, prepared: Rendered | MenuUpdate | Reaction | team_steps.Step
    ) -> str | Sent | None:
        with _classified():
            if isinstance(prepared, team_steps.Step):
                return await self.team.send(prepared)
            if isinstance(prepared, MenuUpdate):
                return await self._set_menu(prepared)
            if isinstance(prepared, Reaction):
                await self.bot.set_message_reaction(
                    int(row.recipient),
                    prepared.message_id,
                    reaction=[ReactionTypeEmoji(emoji=prepared.emoji)],
                    request_timeout=self.request_timeout,  # type: ignore[call-arg]
                )
                return None
            sent = await self._send_message(row, prepared)
            return f"{row.recipient}:{sent}" if prepared.composite_id and sent else sent

    async def _send_message(self, row: Claimed, prepared: Rendered) -> str | None:
        text, markup = prepared.text, prepared.markup
        reply = (
            ReplyParameters(message_id=prepared.reply_to, allow_sending_without_reply=True)
            if prepared.reply_to
            else None
        )
        if prepared.picture is not None:
            photo = await self.bot.send_photo(
                int(row.recipient),
                BufferedInputFile(prepared.picture, filename="chart.png"),
                caption=text,
                message_thread_id=row.thread_id,
                request_timeout=self.request_timeout,  # type: ignore[arg-type]
            )
            return str(photo.message_id)
        if prepared.upload is not None:
            sent = await self._send_upload(row, prepared, reply)
            if sent is not None:
                return sent
            text = prepared.fallback or text  # the file is gone: say so instead
        if prepared.edit_message_id is not None:
            edited = await self._edit(row, prepared.edit_message_id, text, markup)
            if edited is not None or row.kind != screens.SCREEN_KIND:
                return edited
            # A screen whose message is gone or too old to edit comes as a new message.
        if prepared.media is not None:
            kind, file_id = prepared.media
            send = self.bot.send_photo if kind == "photo" else self.bot.send_document
            sent = await send(  # type: ignore[operator]
                int(row.recipient),
                file_id,
                caption=text,
                reply_markup=markup,
                message_thread_id=row.thread_id,
                request_timeout=self.request_timeout,
            )
            return str(sent.message_id)
        message = await self.bot.send_message(
            chat_id=int(row.recipient),
            text=text,
            reply_markup=markup,
            message_thread_id=row.thread_id,
            reply_parameters=reply,
            request_timeout=self.request_timeout,  # type: ignore[arg-type]
        )
        return str(message.message_id)

    async def _send_upload(
        self, row: Claimed, prepared: Rendered, reply: ReplyParameters | None
    ) -> str | None:
        """A file of another channel: fetched now (a provider's link lives minutes), sent as
        the kind of message it is. None when the file cannot be had any more."""
        upload = prepared.upload
        assert upload is not None
        file = await input_file(upload.media, self.media)
        if file is None:
            return None
        send = getattr(self.bot, f"send_{upload.method}")
        # A video note takes no caption: whose it is shows in the message it answers, if any.
        extra = {} if upload.method == "video_note" else {"caption": prepared.text}
        sent = await send(
            int(row.recipient),
            file,
            reply_markup=prepared.markup,
            message_thread_id=row.thread_id,
            reply_parameters=reply,
            request_timeout=self.request_timeout,
            **extra,
        )
        return str(sent.message_id)

    async def _set_menu(self, menu: MenuUpdate) -> None:
        where: dict[str, Any] = {
            "scope": menu.scope,
            "language_code": menu.language_code,
            "request_timeout": self.request_timeout,
        }
        if menu.commands is None:
            await self.bot.delete_my_commands(**where)
        else:
            await self.bot.set_my_commands(menu.commands, **where)

    async def _edit(
        self, row: Claimed, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> str | None:
        try:
            await self.bot.edit_message_text(
                chat_id=int(row.recipient),
                message_id=message_id,
                text=text,
                reply_markup=markup,
                request_timeout=self.request_timeout,  # type: ignore[arg-type]
            )
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return str(message_id)
            if row.kind == screens.SCREEN_KIND and any(m in exc.message for m in _UNEDITABLE):
                return None
            raise
        return str(message_id)

    async def _render(
        self, row: Claimed, session: AsyncSession
    ) -> tuple[str, InlineKeyboardMarkup | None, tuple[str, str] | None] | Rendered:
        render = _TEMPLATES.get(row.kind)
        if render is None:
            raise GiveUp(f"no Telegram template for {row.kind!r}")
        try:
            found = await render(session, row, Translator(row.locale), self.context)
        except NotFound as exc:
            raise GiveUp(f"{exc.message}: nothing to show") from exc
        if isinstance(found, Rendered):  # a template that decides more than text and buttons
            return found
        text, markup, media = found if len(found) == 3 else (*found, None)  # type: ignore[misc]
        # The last guard, whatever the template: a caption has a fourth of a text's room.
        return fit_text(text, CAPTION_LIMIT if media else TEXT_LIMIT), markup, media


@contextmanager
def _classified() -> Iterator[None]:
    """The Bot API's failures sorted into retry-later and give-up."""
    try:
        yield
    except TelegramRetryAfter as exc:
        raise RetryLater(exc.message, retry_after=exc.retry_after) from exc
    except (TimeoutError, TelegramServerError, TelegramNetworkError) as exc:
        raise RetryLater(f"{type(exc).__name__}: {exc}") from exc
    except TelegramUnauthorizedError as exc:
        # A configuration problem (bad token), not the message's fault: keep it for later.
        raise RetryLater(f"unauthorized: {exc.message}", retry_after=300) from exc
    except (TelegramForbiddenError, TelegramNotFound, TelegramMigrateToChat) as exc:
        raise GiveUp(f"{type(exc).__name__}: {exc.message}") from exc
    except TelegramBadRequest as exc:
        raise GiveUp(f"bad request: {exc.message}") from exc


async def _menu(session: AsyncSession, row: Claimed) -> MenuUpdate:
    """A chat gets the list of the active employee it belongs to now, or loses its own list;
    private chats in general get the strangers' list (bot.telegram.commands)."""
    if row.payload.get("scope") == "private":
        code = str(row.payload.get("language_code") or "")
        strangers = commands.bot_commands(None, Translator(row.locale))
        return MenuUpdate(BotCommandScopeAllPrivateChats(), code or None, strangers)
    chat_id = int(row.payload["chat_id"])
    employee = await employees.by_telegram_id(session, chat_id)
    scope = BotCommandScopeChat(chat_id=chat_id)
    if employee is None or not employee.is_active:
        return MenuUpdate(scope, None, None)
    t = Translator(employee.locale or row.locale)
    return MenuUpdate(scope, None, commands.bot_commands(employee.role, t))


class TelegramMedia:
    """Files of our bot's chats, for senders of other channels (bot.media)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def fetch(self, ref: str) -> Fetched:
        with _classified():
            file = await self.bot.get_file(ref)
            if not file.file_path:
                raise GiveUp("Telegram gave no path for the file")
            data = await self.bot.download_file(file.file_path)
        assert data is not None
        return Fetched(data.read(), None, file.file_path.rsplit("/", 1)[-1])


# The message kinds this channel can show (outbox `kind` → template).
_TEMPLATES: dict[str, Renderer] = {
    **card_templates.TEMPLATES,
    **conversation_templates.TEMPLATES,
    **bulk_templates.TEMPLATES,
    reports.DIGEST: report_templates.digest,  # type: ignore[dict-item]
    reports.CHART: report_templates.chart,  # type: ignore[dict-item]
    escalations.ESCALATION: report_templates.escalation,  # type: ignore[dict-item]
}
