"""The staff-bot bench's dispatchers: feeding updates in lanes and noting which handler
answered each (`feed`, `watch`), and the bare aiogram baseline (`bare_dispatcher`)."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, InlineQuery, Message, TelegramObject

_SEEN: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("bench_seen")


class WhoHandled(BaseMiddleware):
    """Notes which handler answered (and which error, if one was raised) for the report."""

    def __init__(self, slot: str) -> None:
        self.slot = slot

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        seen = _SEEN.get(None)
        if seen is not None:
            if self.slot == "error":
                error = getattr(event, "exception", None)
                seen["error"] = getattr(error, "key", None) or type(error).__name__
            else:
                callback = data["handler"].callback
                seen["handler"] = f"{callback.__module__}.{callback.__qualname__}"
        return await handler(event, data)


def watch(dispatcher: Dispatcher) -> None:
    for observer in (dispatcher.message, dispatcher.callback_query, dispatcher.inline_query):
        observer.middleware(WhoHandled("handler"))
    dispatcher.errors.middleware(WhoHandled("error"))


@dataclass
class Result:
    kind: str
    seconds: float
    handler: str
    error: str | None


async def feed(
    dispatcher: Dispatcher, bot: Bot, plan_lanes: list[list[tuple[str, dict[str, Any]]]]
) -> tuple[float, list[Result]]:
    results: list[Result] = []

    async def lane(updates: list[tuple[str, dict[str, Any]]]) -> None:
        for kind, update in updates:
            seen: dict[str, str] = {}
            _SEEN.set(seen)
            started = time.perf_counter()
            await dispatcher.feed_raw_update(bot, update)
            took = time.perf_counter() - started
            results.append(Result(kind, took, seen.get("handler", "-"), seen.get("error")))

    started = time.perf_counter()
    await asyncio.gather(*(lane(updates) for updates in plan_lanes))
    return time.perf_counter() - started, results


def bare_dispatcher() -> Dispatcher:
    """The baseline: one router answering the same updates at the same fake Bot API."""
    router = Router(name="bare")

    @router.message()
    async def echo(message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, f"echo: {message.text}", parse_mode=None)

    @router.callback_query()
    async def pressed(query: CallbackQuery, bot: Bot) -> None:
        await query.answer()
        assert query.message is not None
        await bot.edit_message_text(
            f"pressed {query.data} ({query.id})",
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            parse_mode=None,
        )

    @router.inline_query()
    async def inline(query: InlineQuery) -> None:
        await query.answer([], cache_time=0, is_personal=True)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    watch(dispatcher)
    return dispatcher
