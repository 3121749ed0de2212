"""What every `crm` command shares: a unit of work on a migrated database, the company's
settings as services want them, the invite link an employee opens."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from config.settings import Settings

log = logging.getLogger("chatcrm")


async def with_db(settings: Settings, work: Callable[[Any], Awaitable[int]]) -> int:
    import migrations
    from models.db import Database

    await migrations.upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    try:
        async with db.unit_of_work() as session:
            return await work(session)
    finally:
        await db.dispose()


async def invite_link(settings: Settings, code: str) -> str:
    """A t.me deep link when the bot's username can be learned; else the /start command."""
    fallback = f'send "/start {code}" to the bot'
    if not settings.telegram_bot_token:
        return fallback + " (set TELEGRAM_BOT_TOKEN to get a t.me link)"
    from bot.telegram.factory import make_bot

    bot = make_bot(settings.telegram_bot_token, settings.telegram_api_base)
    try:
        me = await bot.get_me(request_timeout=10)
        return f"https://t.me/{me.username}?start={code}"
    except Exception as exc:
        log.warning("could not ask Telegram for the bot's username: %s", exc)
        return fallback
    finally:
        await bot.session.close()


def company(settings: Settings) -> Any:
    from app import company_of

    return company_of(settings)
