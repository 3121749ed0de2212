"""The composition root: the one place that wires settings, database, bot, web and workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from aiogram import Bot, Dispatcher
from aiohttp import web
from redis.asyncio import Redis

from bot.delivery import Sender
from bot.media import MediaSources
from bot.telegram import commands
from bot.telegram.factory import make_bot, make_dispatcher
from bot.telegram.sender import TelegramMedia, TelegramSender
from bot.whatsapp.graph import Graph, WhatsAppMedia
from bot.whatsapp.sender import WhatsAppSender
from config.settings import Settings
from models import Channel
from models.db import Database
from scheduler import runner as scheduler_runner
from scheduler.outbox_pump import OutboxPump
from scheduler.rate_limit import (
    FallbackRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    bulk_lane,
)
from services import company_settings, conversations, notify, team
from services.clock import Clock, SystemClock
from services.context import Company, EscalationRules
from services.outbox import Claimed
from webhooks.batching import GroupCommit, calls_batcher, conversations_batcher, intake_batcher
from webhooks.server import build_web_app, listen

log = logging.getLogger("chatcrm")
ROLES = ("web", "bot", "worker", "scheduler")
# What /healthz says about the bot in this process: not run here, waiting for the Bot API, up.
BOT_OFF, BOT_CONNECTING, BOT_OK = "off", "connecting", "ok"


@dataclass
class Container:
    settings: Settings
    db: Database
    company: Company
    redis: Redis | None = None
    bot: Bot | None = None
    dispatcher: Dispatcher | None = None
    pump: OutboxPump | None = None
    intake: GroupCommit = field(init=False)
    calls: GroupCommit = field(init=False)
    conversations: GroupCommit = field(init=False)
    graph: Graph | None = None  # WhatsApp, when configured
    background: list[asyncio.Task[None]] = field(default_factory=list)
    bot_state: str = BOT_OFF

    def __post_init__(self) -> None:
        self.intake = intake_batcher(self.db, self.company)
        self.calls = calls_batcher(self.db, self.company)
        self.conversations = conversations_batcher(self.db, self.company)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> Container:
        company = company_of(settings, clock=clock)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        container = cls(settings, Database(settings.database_url), company, redis)
        container.graph = _whatsapp(settings)
        if settings.telegram_bot_token:
            container.bot = make_bot(settings.telegram_bot_token, settings.telegram_api_base)
            container.dispatcher = make_dispatcher(
                container.db, company, redis, redis_prefix=settings.redis_prefix
            )
        return container

    @property
    def outbox_channel(self) -> str:
        """The Redis pub/sub channel that wakes outbox pumps in other processes."""
        return f"{self.settings.redis_prefix}:outbox"

    def make_pump(self, *, batch: int = 50, poll_interval: float = 1.0) -> OutboxPump:
        senders: dict[Channel, Sender] = {}
        limiters: dict[Channel, RateLimiter] = {}
        media: MediaSources = {}
        if self.graph is not None:
            media[Channel.WHATSAPP] = WhatsAppMedia(self.graph)
            senders[Channel.WHATSAPP] = WhatsAppSender(self.graph, media, self.company.clock)
            limiters[Channel.WHATSAPP] = self._limiter("whatsapp", self.settings.whatsapp_rate, 0.0)
        if self.bot is not None:
            s = self.settings
            limiter = self._limiter(
                "telegram",
                s.telegram_global_rate,
                s.telegram_chat_interval,
                group_rate=(s.telegram_group_rate, s.telegram_group_window),
            )
            limiters[Channel.TELEGRAM] = limiter
            media[Channel.TELEGRAM] = TelegramMedia(self.bot)
            senders[Channel.TELEGRAM] = TelegramSender(
                self.bot,
                public_url=self.settings.public_url,
                timezone=self.company.timezone,
                clock=self.company.clock,
                media=media,
                slot=limiter.acquire,
                company=self.company,
            )
        self.pump = OutboxPump(
            self.db,
            senders,
            limiters,
            self.company.clock,
            batch=batch,
            poll_interval=poll_interval,
            on_settled=self._settled,
            bulk={
                channel: bulk_lane(rate, lambda r, c=channel: self._limiter(f"{c}-bulk", r, 0.0))
                for channel, rate in (
                    (Channel.WHATSAPP, self.settings.whatsapp_rate),
                    (Channel.TELEGRAM, self.settings.telegram_global_rate),
                )
            },
        )
        return self.pump

    def _limiter(
        self,
        name: str,
        rate: float,
        interval: float,
        *,
        group_rate: tuple[int, float] | None = None,
    ) -> RateLimiter:
        """Shared across processes through Redis when there is one (in-process while it is
        away), in-process otherwise."""
        local = MemoryRateLimiter(rate, interval, group_rate=group_rate)
        if self.redis is None:
            return local
        prefix = f"{self.settings.redis_prefix}:rl:{name}"
        shared = RedisRateLimiter(self.redis, rate, interval, prefix=prefix, group_rate=group_rate)
        return FallbackRateLimiter(shared, local)

    async def _settled(
        self,
        session: Any,
        row: Claimed,
        result: str,
        provider_id: str | None,
        error: str,
        facts: dict[str, Any],
    ) -> None:
        now = self.company.clock.now()
        await conversations.settled(
            session,
            row,
            result=result,
            provider_id=provider_id,
            error=error,
            now=now,
            default_locale=self.company.locale,
        )
        await team.settled(session, row, result=result, facts=facts, now=now)

    def wire_outbox_nudges(self) -> None:
        """After a commit that wrote outbox rows: wake the local pump, and others via Redis."""
        if self.pump is not None:
            self.db.after_outbox_commit.append(self.pump.nudge)
        if self.redis is not None:
            self.db.after_outbox_commit.append(lambda: self.spawn(self._publish_nudge()))

    async def _publish_nudge(self) -> None:
        # Best effort: with Redis away, other processes find the rows at their next poll.
        assert self.redis is not None
        try:
            await asyncio.wait_for(self.redis.publish(self.outbox_channel, b"1"), 2)
        except Exception as exc:
            log.debug("outbox nudge not published: %s", exc)

    def spawn(self, coro: Awaitable[object]) -> None:
        """Run in the background until close()."""
        task = asyncio.ensure_future(coro)
        self.background.append(task)  # type: ignore[arg-type]
        task.add_done_callback(lambda t: self.background.remove(t))  # type: ignore[arg-type]

    async def listen_for_nudges(self, *, max_backoff: float = 2.0) -> None:
        """Wake the local pump on other processes' nudges; reconnect whenever Redis drops.

        While Redis is away the pump still polls every second, so cards keep flowing.
        """
        assert self.redis is not None and self.pump is not None
        pause = 0.1
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.outbox_channel)
                if pause > 0.1:
                    log.warning("outbox nudges: Redis is back, listening again")
                pause = 0.1
                # Anything published while we were away is lost: look for due rows now.
                self.pump.nudge()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.pump.nudge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if pause == 0.1:
                    log.warning("outbox nudges: Redis unreachable (%s); reconnecting", exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, max_backoff)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def close(self) -> None:
        await self.intake.close()
        await self.calls.close()
        await self.conversations.close()
        if self.pump is not None:
            await self.pump.stop()
        for task in list(self.background):
            task.cancel()
        if self.bot is not None:
            await self.bot.session.close()
        if self.graph is not None:
            await self.graph.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()


def company_of(settings: Settings, *, clock: Clock | None = None) -> Company:
    """The company-wide values services need, read from settings once (here, for every role
    and for the CLI)."""
    return Company(
        timezone=settings.tz,
        region=settings.default_region,
        locale=settings.locale,
        currency=settings.currency,
        clock=clock or SystemClock(),
        ticket_categories=tuple(settings.ticket_categories.split(",")),
        auto_reply=settings.auto_reply_text,
        digest_time=settings.digest_time,
        escalations=EscalationRules(
            settings.escalate_task_minutes,
            settings.escalate_response_minutes,
            settings.escalate_deal_days,
            settings.ticket_sla_minutes,
        ),
    )


def _whatsapp(settings: Settings) -> Graph | None:
    """The WhatsApp channel, when configured (its approved templates are the channel's)."""
    templates = tuple(t.strip() for t in settings.whatsapp_templates.split(",") if t.strip())
    conversations.register(replace(conversations.channels.WHATSAPP, templates=templates))
    if not (settings.whatsapp_token and settings.whatsapp_phone_number_id):
        return None  # said once the server is up (serve)
    return Graph(
        settings.whatsapp_api_base, settings.whatsapp_token, settings.whatsapp_phone_number_id
    )


async def serve(
    container: Container,
    roles: set[str],
    stop: asyncio.Event,
    *,
    started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run the given roles until `stop` is set; `started` runs once they are up (the HTTP
    port is bound, the bot is connecting)."""
    runner: web.AppRunner | None = None
    jobs = None
    try:
        # what an admin changed in the web panel, in force here within seconds
        container.spawn(company_settings.keep_fresh(container.db, container.company))
        if "worker" in roles:
            container.make_pump().start()
            if container.redis is not None:
                container.spawn(container.listen_for_nudges())
        container.wire_outbox_nudges()
        if "web" in roles:
            runner = web.AppRunner(build_web_app(container), access_log=None)
            await runner.setup()
            await listen(runner, container.settings.http_host, container.settings.http_port)
        if "bot" in roles:
            _start_bot(container, with_webhook_server="web" in roles)
        if "worker" in roles and container.graph is None:
            log.info("WhatsApp is off: WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are not set")
        if "scheduler" in roles:  # once the port is ours: a failed start runs no job
            jobs = scheduler_runner.start(container.db, container.company)
        if started is not None:
            await started()
        await stop.wait()
    finally:
        if jobs is not None:
            jobs.shutdown(wait=False)
        if container.dispatcher is not None:
            with contextlib.suppress(RuntimeError):
                await container.dispatcher.stop_polling()
        if runner is not None:
            await runner.cleanup()
        await container.close()


def _start_bot(container: Container, *, with_webhook_server: bool) -> None:
    """Connect the bot in the background: web intake and the outbox never wait for Telegram
    (the outbox keeps cards pending and retries them until the Bot API answers)."""
    if container.bot is None or container.dispatcher is None:
        log.warning("Telegram bot is off: TELEGRAM_BOT_TOKEN is not set (the rest runs)")
        return
    container.bot_state = BOT_CONNECTING
    container.spawn(_connect_bot(container, with_webhook_server=with_webhook_server))
    container.spawn(_publish_strangers_menu(container))


async def _connect_bot(container: Container, *, with_webhook_server: bool) -> None:
    attempt = 0
    while True:
        try:
            await _register_bot(container, with_webhook_server=with_webhook_server)
            break
        except Exception as exc:  # unreachable, 5xx, 429, a rejected token: say so, retry
            delay = reconnect_delay(attempt)
            attempt += 1
            log.warning(
                "bot not connected to the Telegram Bot API at %s (%s: %s); retrying in %.0f s",
                container.settings.telegram_api_base,
                type(exc).__name__,
                exc,
                delay,
            )
            await asyncio.sleep(delay)
    container.bot_state = BOT_OK


async def _publish_strangers_menu(container: Container) -> None:
    """In the background, retried until the database takes it (the bot does not wait)."""
    attempt = 0
    while True:
        try:
            return await publish_strangers_menu(container)
        except Exception as exc:
            delay = reconnect_delay(attempt)
            attempt += 1
            log.warning("strangers' menu not written (%s); retrying in %.0f s", exc, delay)
            await asyncio.sleep(delay)


async def publish_strangers_menu(container: Container) -> None:
    """Private chats without a list of their own show /start and /help; written to the outbox
    once per version of those texts (every process may call this at every start-up)."""
    company = container.company
    async with container.db.unit_of_work() as session:
        await notify.strangers_menu(
            session,
            version=commands.strangers_version(),
            default_locale=company.locale,
            now=company.clock.now(),
        )


def reconnect_delay(attempt: int) -> float:
    """1 s doubling to 60 s, with jitter so a fleet of processes doesn't retry in step."""
    return min(2.0**attempt, 60.0) * random.uniform(0.8, 1.2)


async def _register_bot(container: Container, *, with_webhook_server: bool) -> None:
    settings, bot, dispatcher = container.settings, container.bot, container.dispatcher
    assert bot is not None and dispatcher is not None
    if settings.public_url:
        url = f"{settings.public_url}/webhooks/telegram"
        await bot.set_webhook(
            url,
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
        log.info("Telegram webhook set to %s", url)
        if not with_webhook_server:
            log.warning("webhook mode: updates arrive at the web process, not this one")
        return
    await bot.delete_webhook(drop_pending_updates=False)
    await bot.me()  # start_polling asks for it first and gives up if that fails
    container.spawn(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
    log.info("Telegram bot polling %s", settings.telegram_api_base)
