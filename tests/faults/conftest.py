"""Fault tests: the product on PostgreSQL with the real clock, its pump running, the fake Bot API
at the network edge. Each test breaks one thing a real office would meet, then checks what an
employee would notice: every acknowledged lead's card arrives once, and soon."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from app import Container
from config.settings import Settings
from models.db import Database
from services.clock import SystemClock
from tests import factories
from tests.conftest import REDIS_PREFIX, _empty
from tests.fakes.telegram_api import FakeTelegram
from webhooks.server import build_web_app

FORMS_TOKEN = "form-secret"
_phones = itertools.count(1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def pg(postgresql_url: str) -> AsyncIterator[Database]:
    database = Database(postgresql_url)
    await _empty(database)
    yield database
    await database.dispose()


@pytest.fixture
def live_settings(postgresql_url: str, fake_tg: FakeTelegram) -> Settings:
    return Settings(
        _env_file=None,
        database_url=postgresql_url,
        telegram_bot_token=fake_tg.token,  # type: ignore[call-arg]
        telegram_api_base=fake_tg.base_url,
        forms_token=FORMS_TOKEN,
        redis_prefix=REDIS_PREFIX,
        telegram_global_rate=1000,
        telegram_chat_interval=0,
    )


async def start_live(settings: Settings, *, poll_interval: float = 1.0) -> Container:
    """The product as `crm run` wires a worker: real clock, pump running, nudges wired."""
    built = Container.build(settings, clock=SystemClock())
    built.make_pump(poll_interval=poll_interval)
    built.wire_outbox_nudges()
    assert built.pump is not None
    built.pump.start()
    return built


@pytest.fixture
async def live(pg: Database, live_settings: Settings) -> AsyncIterator[Container]:
    built = await start_live(live_settings)
    yield built
    await built.close()


@pytest.fixture
async def client(live: Container, aiohttp_client):  # type: ignore[no-untyped-def]
    return await aiohttp_client(build_web_app(live))


async def staff(db: Database, count: int) -> list[int]:
    """`count` employees bound to Telegram, always on duty; their chat ids."""
    async with db.unit_of_work() as s:
        people = [await factories.employee(s, SystemClock(), name=f"E{i}") for i in range(count)]
    return [p.telegram_id for p in people]


@dataclass
class Leads:
    """Leads posted to the form webhook, each with a name that appears only on its card."""

    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def post(self, client, n: int = 1) -> None:  # type: ignore[no-untyped-def]
        for _ in range(n):
            name = f"Клиент-{next(_phones):06d}"  # fixed width: no name contains another
            try:
                response = await client.post(
                    "/webhooks/forms/site",
                    json={"name": name, "phone": f"+7912555{next(_phones) % 10000:04d}"},
                    headers={"X-CRM-Token": FORMS_TOKEN},
                )
                ok = 200 <= response.status < 300
            except Exception:  # the product is down: the form's sender would retry later
                ok = False
            (self.acknowledged if ok else self.refused).append(name)


def copies(fake: FakeTelegram, name: str) -> int:
    """How many messages carrying this lead's card the employees have received."""
    return sum(1 for m in fake.sent_messages() if name in m["text"])


def cards_of(fake: FakeTelegram, names: list[str]) -> dict[str, int]:
    return {name: copies(fake, name) for name in names}


async def wait_until(condition, within: float, step: float = 0.1) -> float:  # type: ignore[no-untyped-def]
    """Wait for `condition()` to hold; returns the seconds it took (fails after `within` s)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within}s")
        await asyncio.sleep(step)
    return time.monotonic() - started


async def each_once(fake: FakeTelegram, names: list[str], within: float) -> float:
    """Every named lead's card has arrived; fails if any arrived twice."""
    took = await wait_until(lambda: all(copies(fake, n) >= 1 for n in names), within)
    await asyncio.sleep(0.3)  # a duplicate would be on its way by now
    assert cards_of(fake, names) == {n: 1 for n in names}
    return took


async def all_sent(db: Database, within: float = 5) -> bool:
    """Every outbox row ends up delivered (its result recorded) within a few seconds: sent on
    its own, or as a line of a digest of new leads (coalesced)."""
    from models import OutboxMessage, OutboxStatus

    await db.engine.dispose()  # the test's own connections may have been dropped too
    deadline = time.monotonic() + within
    while True:
        async with db.unit_of_work() as s:
            found = set((await s.execute(sa.select(OutboxMessage.status))).scalars())
        if found <= {OutboxStatus.SENT, OutboxStatus.COALESCED}:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)


# --- a throwaway Redis: never the machine's shared one ----------------------------------------


class ThrowawayRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def client(self) -> Redis:
        return Redis.from_url(self.url)


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = ThrowawayRedis()
    server.start()
    yield server
    server.kill()
