"""One step of a client's topic in the team inbox (services.team.topics explains the steps).

`prepare` reads the topic and renders what it needs next; `send` does it with the Bot API and
says what it did as facts. Telegram's answers for a topic that is gone ("message thread not
found", TOPIC_DELETED) make the step report the topic gone, and the next step opens a new one;
a closed topic (TOPIC_CLOSED) is reopened and the call made again. Once a topic is created its
id is never lost: whatever fails after that, the step reports the new topic.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramEntityTooLarge
from aiogram.types import ReplyParameters
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import NOTHING, GiveUp, NothingToSend, Sent
from bot.media import MediaSources
from bot.telegram import team_screens
from bot.telegram.rendering import Context, input_file
from config.i18n import Translator
from services import team
from services.outbox import Claimed

log = logging.getLogger(__name__)
GONE = ("message thread not found", "topic_deleted", "topic_id_invalid")
CLOSED = "topic_closed"
NOT_MODIFIED = ("message is not modified", "topic_not_modified")
UNEDITABLE = ("message to edit not found", "message can't be edited", "message_id_invalid")
Slot = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True)
class Step:
    topic_id: int
    chat_id: int
    thread_id: int | None
    name: str  # the topic's name as it should be
    current_name: str | None
    card: team_screens.Card
    card_message_id: int | None
    card_hash: str | None
    part: team_screens.Part | None
    reply_to: int | None  # the Telegram message in the group the part answers
    more: bool  # messages wait besides those of `part`


class TopicGone(Exception):
    pass


async def prepare(session: AsyncSession, row: Claimed, context: Context) -> Step | NothingToSend:
    topic_id = int(row.payload["topic_id"])
    state = await team.state(session, topic_id)
    if state is None:
        raise GiveUp("the topic's client is gone")
    t = Translator(state.locale)
    name = team_screens.topic_name(state.card, t)
    card = team_screens.card(state.card, name, topic_id, t, context.timezone)
    part = team_screens.next_part(state.pending, state.card.name, t)
    ready = state.thread_id is not None and state.card_message_id is not None
    if ready and part is None and card.digest == state.card_hash and name == state.name:
        return NOTHING
    reply_to = None
    if part is not None and part.quoted_id is not None:
        reply_to = await team.copy_in_topic(session, state, part.quoted_id)
    carried = len(part.message_ids) if part else 0
    more = state.more or len(state.pending) > carried
    return Step(
        topic_id,
        state.chat_id,
        state.thread_id,
        name,
        state.name,
        card,
        state.card_message_id,
        state.card_hash,
        part,
        reply_to,
        more,
    )


class TeamSteps:
    """Does steps with the bot; `slot(chat)` waits for the group's rate limit before each
    call after a step's first (the pump waited for that one)."""

    def __init__(
        self, bot: Bot, media: MediaSources, request_timeout: float, slot: Slot | None = None
    ) -> None:
        self.bot, self.media, self.timeout = bot, media, request_timeout
        self._slot = slot

    async def send(self, step: Step) -> Sent:
        calls = _Calls(self._slot, str(step.chat_id))
        try:
            if step.thread_id is None:
                return await self._open(step, calls)
            if step.card_message_id is None:
                return await self._post_card(step, step.thread_id, calls)
            if step.part is not None:
                return await self._post_part(step, step.thread_id, calls)
            return await self._refresh(step, step.thread_id, calls)
        except TopicGone:
            log.info(
                "team topic %s: thread %s is gone; a new one opens", step.topic_id, step.thread_id
            )
            gone = {"thread_id": None, "card_message_id": None, "card_hash": None, "name": None}
            return Sent(None, {**gone, "more": True})

    async def _open(self, step: Step, calls: _Calls) -> Sent:
        await calls.next()
        topic = await self.bot.create_forum_topic(
            step.chat_id,
            step.name,
            request_timeout=self.timeout,  # type: ignore[call-arg]
        )
        facts: dict[str, Any] = {
            "thread_id": topic.message_thread_id,
            "name": step.name,
            "card_message_id": None,
            "card_hash": None,
            "opened": True,
            "more": True,
        }
        try:  # the topic exists now: whatever fails next, it is not lost
            card = await self._post_card(step, topic.message_thread_id, calls)
        except Exception as exc:
            log.warning("team topic %s: opened, card not posted yet: %s", step.topic_id, exc)
            return Sent(None, facts)
        return Sent(card.provider_id, {**facts, **card.facts})

    async def _post_card(self, step: Step, thread_id: int, calls: _Calls) -> Sent:
        sent = await self._in_topic(
            step,
            thread_id,
            calls,
            lambda: self.bot.send_message(
                step.chat_id,
                step.card.text,
                message_thread_id=thread_id,
                reply_markup=step.card.markup,
                request_timeout=self.timeout,  # type: ignore[arg-type]
            ),
        )
        facts = {
            "card_message_id": sent.message_id,
            "card_hash": step.card.digest,
            "name": step.current_name or step.name,
            "more": True,
        }
        try:
            await calls.next()
            await self.bot.pin_chat_message(
                step.chat_id,
                sent.message_id,
                disable_notification=True,
                request_timeout=self.timeout,  # type: ignore[call-arg]
            )
        except Exception as exc:  # the card is there; unpinned is better than reposted
            log.warning("team topic %s: card not pinned: %s", step.topic_id, exc)
        return Sent(str(sent.message_id), facts)

    async def _post_part(self, step: Step, thread_id: int, calls: _Calls) -> Sent:
        part = step.part
        assert part is not None
        reply = (
            ReplyParameters(message_id=step.reply_to, allow_sending_without_reply=True)
            if step.reply_to
            else None
        )

        async def post() -> Any:
            if part.upload is not None:
                file = await input_file(part.upload.media, self.media)
                if file is not None:
                    try:
                        return await self._upload(step, thread_id, part, file, reply)
                    except (TelegramEntityTooLarge, TelegramBadRequest) as exc:
                        if isinstance(exc, TelegramBadRequest):
                            _raise_if_gone(exc)
                            if _matches(exc, (CLOSED,)):
                                raise
                        # too big, or a file Telegram will not take: said in words instead
                        log.warning("team topic %s: file refused: %s", step.topic_id, exc)
                        await calls.next()
            return await self.bot.send_message(
                step.chat_id,
                part.fallback if part.upload is not None and part.fallback else part.text,
                message_thread_id=thread_id,
                reply_parameters=reply,
                request_timeout=self.timeout,  # type: ignore[arg-type]
            )

        stale = step.card.digest != step.card_hash or step.name != step.current_name
        shown: dict[str, Any] = {"shown": list(part.message_ids), "more": step.more or stale}
        try:
            sent = await self._in_topic(step, thread_id, calls, post)
        except TelegramBadRequest as exc:
            if _matches(exc, (*GONE, CLOSED)):
                raise
            # Refused for good (never seen: parts are fitted to the limits). The messages are
            # in the history; the topic goes on with the next ones instead of stopping here.
            log.error("team topic %s: part refused, skipped: %s", step.topic_id, exc)
            return Sent(None, shown)
        # a Telegram reply to it answers (and quotes) the newest message it shows
        return Sent(
            str(sent.message_id), {**shown, "copies": [(part.message_ids[-1], sent.message_id)]}
        )

    async def _upload(
        self,
        step: Step,
        thread_id: int,
        part: team_screens.Part,
        file: Any,
        reply: ReplyParameters | None,
    ) -> Any:
        assert part.upload is not None
        send = getattr(self.bot, f"send_{part.upload.method}")
        # a video note takes no caption
        extra = {} if part.upload.method == "video_note" else {"caption": part.text}
        return await send(
            step.chat_id,
            file,
            message_thread_id=thread_id,
            reply_parameters=reply,
            request_timeout=self.timeout,
            **extra,
        )

    async def _refresh(self, step: Step, thread_id: int, calls: _Calls) -> Sent:
        facts: dict[str, Any] = {}
        if step.name != step.current_name:
            await calls.next()
            try:
                await self.bot.edit_forum_topic(
                    step.chat_id,
                    thread_id,
                    name=step.name,
                    request_timeout=self.timeout,  # type: ignore[call-arg]
                )
            except TelegramBadRequest as exc:
                _raise_if_gone(exc)
                if not _matches(exc, NOT_MODIFIED):
                    raise
            facts["name"] = step.name
        if step.card.digest != step.card_hash:
            assert step.card_message_id is not None
            await calls.next()
            try:
                await self.bot.edit_message_text(
                    text=step.card.text,
                    chat_id=step.chat_id,
                    message_id=step.card_message_id,
                    reply_markup=step.card.markup,
                    request_timeout=self.timeout,  # type: ignore[arg-type]
                )
            except TelegramBadRequest as exc:
                if _matches(exc, UNEDITABLE):  # the card was deleted: a fresh one is posted
                    return Sent(None, {**facts, "card_message_id": None, "more": True})
                if not _matches(exc, NOT_MODIFIED):
                    raise
            facts["card_hash"] = step.card.digest
        return Sent(None, facts)

    async def _in_topic(
        self, step: Step, thread_id: int, calls: _Calls, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        """A post into the topic; a closed topic is reopened and the post made again."""
        await calls.next()
        try:
            return await call()
        except TelegramBadRequest as exc:
            _raise_if_gone(exc)
            if not _matches(exc, (CLOSED,)):
                raise
        await calls.next()
        try:
            await self.bot.reopen_forum_topic(
                step.chat_id,
                thread_id,
                request_timeout=self.timeout,  # type: ignore[call-arg]
            )
        except TelegramBadRequest as exc:
            _raise_if_gone(exc)
            if not _matches(exc, NOT_MODIFIED):
                raise
        await calls.next()
        try:
            return await call()
        except TelegramBadRequest as exc:
            _raise_if_gone(exc)
            raise


class _Calls:
    """Counts a step's calls to the group: each after the first waits for a rate-limit slot."""

    def __init__(self, slot: Slot | None, chat: str) -> None:
        self._slot, self._chat, self._made = slot, chat, 0

    async def next(self) -> None:
        self._made += 1
        if self._made > 1 and self._slot is not None:
            await self._slot(self._chat)


def _matches(exc: TelegramBadRequest, words: tuple[str, ...]) -> bool:
    message = exc.message.lower()
    return any(w in message for w in words)


def _raise_if_gone(exc: TelegramBadRequest) -> None:
    if _matches(exc, GONE):
        raise TopicGone() from exc
