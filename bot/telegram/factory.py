"""Building the aiogram Bot and Dispatcher from settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import Response
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import TelegramMethod
from redis.asyncio import Redis

from bot.telegram.middlewares import DialogMiddleware, EmployeeMiddleware, UnitOfWorkMiddleware
from handlers import get_routers
from models.db import Database
from services.context import Company

FSM_KEYS_TTL = timedelta(days=7)


class Session(AiohttpSession):
    """aiogram's aiohttp session, keeping the model each answer is parsed with.

    aiogram parses every Bot API answer with `Response[<the method's result type>]`, a
    pydantic generic parametrised on each call. pydantic caches parametrisations only weakly,
    so once the garbage collector has run, the next call could build the model again
    (milliseconds of CPU, on every message the outbox pump sends). Here each result type's
    model is built once and kept for the life of the process (a few dozen types;
    tests/test_bot_session.py counts the builds)."""

    _responses: ClassVar[dict[Any, type]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._responses:
            self._responses[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def make_bot(token: str, api_base: str) -> Bot:
    session = Session(api=TelegramAPIServer.from_base(api_base))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def make_dispatcher(
    db: Database,
    company: Company,
    redis: Redis | None = None,
    *,
    redis_prefix: str = "crm",
    routers: list[Router] | None = None,
) -> Dispatcher:
    """The dispatcher with the product's routers (or `routers`, for a test that adds its own)."""
    storage: BaseStorage = (
        RedisStorage(
            redis,
            key_builder=DefaultKeyBuilder(prefix=f"{redis_prefix}:fsm"),
            # Dialogs expire after DIALOG_TTL (said when the person comes back); keys of
            # people who never come back go after a week.
            state_ttl=FSM_KEYS_TTL,
            data_ttl=FSM_KEYS_TTL,
        )
        if redis is not None
        else MemoryStorage()
    )
    dispatcher = Dispatcher(storage=storage)
    dispatcher.update.outer_middleware(UnitOfWorkMiddleware(db, company))
    dispatcher.update.outer_middleware(EmployeeMiddleware(company.locale))
    dispatcher.update.outer_middleware(DialogMiddleware())
    dispatcher.include_routers(*(get_routers() if routers is None else routers))
    return dispatcher
