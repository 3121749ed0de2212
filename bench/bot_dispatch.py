"""The staff-bot bench's dispatchers: feeding updates in lanes and noting which handler
answered each (`feed`, `watch`), and the bare aiogram baseline (`bare_dispatcher`)."""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

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


class Result(NamedTuple):
    # A tuple of plain values: the collector stops tracking it, so the thousands a run keeps
    # do not lengthen the product's garbage collections.
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


async def steady(
    dispatcher: Dispatcher,
    bot: Bot,
    steps: list[tuple[int, tuple[str, dict[str, Any]]]],
    rate: float,
    rng: random.Random,
    first_id: int,
) -> tuple[float, list[Result]]:
    """Updates arriving at `rate` a second on average (Poisson arrivals), however many are in
    flight: the load of a working day rather than a queue kept full. An employee's next update
    waits for their previous answer (a person taps one thing at a time); a handling time runs
    from when the update arrived, or, for one that waited so, from that answer, so an event
    loop that falls behind shows in the figures instead of delaying the arrivals."""
    results: list[Result] = []
    previous: dict[int, asyncio.Task[None]] = {}

    async def one(kind: str, update: dict[str, Any], due: float, before: Any) -> None:
        if before is not None:
            await before
        seen: dict[str, str] = {}
        _SEEN.set(seen)
        started = max(due, time.perf_counter()) if before is not None else due
        await dispatcher.feed_raw_update(bot, update)
        took = time.perf_counter() - started
        results.append(Result(kind, took, seen.get("handler", "-"), seen.get("error")))

    began = due = time.perf_counter()
    tasks = []
    for n, (employee_id, (kind, body)) in enumerate(steps):
        due += rng.expovariate(rate)
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        update = {"update_id": first_id + n, **body}
        task = asyncio.create_task(one(kind, update, due, previous.get(employee_id)))
        previous[employee_id] = task
        tasks.append(task)
    await asyncio.gather(*tasks)
    return time.perf_counter() - began, results


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
