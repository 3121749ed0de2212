"""Shared fixtures: a real database per backend (SQLite and PostgreSQL), migrated once per run
and emptied between tests; a frozen clock; the fake Telegram Bot API; the wired product."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

import migrations
import models
from app import Container
from config.settings import Settings
from models.db import Database
from services.clock import FrozenClock
from services.context import Company
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp
from webhooks.server import build_web_app

MSK = ZoneInfo("Europe/Moscow")
# Monday 1 December 2025, 10:00 in Moscow: inside ordinary working hours.
MONDAY_10AM = datetime(2025, 12, 1, 10, 0, tzinfo=MSK)
PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
# Each run has its own PostgreSQL database and Redis key prefix, so two suites on one machine
# (two checkouts, CI beside a developer) never touch each other's data.
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
PG_TEST_DB = os.environ.get("TEST_PG_DATABASE", f"chatcrm_test_{RUN_ID}")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_PREFIX = f"crmtest:{RUN_ID}"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
KEEP = {"alembic_version", "pipelines", "pipeline_stages"}


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error}); CI requires it"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(f"{what} not reachable: {error}")


async def _pg_admin(*statements: str) -> None:
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await admin.dispose()


@contextlib.contextmanager
def scratch_pg_database(suffix: str) -> Iterator[str]:
    """A PostgreSQL database of this run's own, empty, for a test that migrates it step by
    step (its URL); dropped afterwards. Skips (fails in CI) when PostgreSQL is unreachable."""
    name = f"chatcrm_test_{RUN_ID}_{suffix}"
    try:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _create_pg_database() -> str:
    await _pg_admin(
        f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)', f'CREATE DATABASE "{PG_TEST_DB}"'
    )
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_TEST_DB}"


@pytest.fixture(scope="session")
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="crm-test-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'crm.sqlite3'}"
        migrations.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    try:
        url = asyncio.run(_create_pg_database())
    except Exception as exc:  # connection refused, auth, ...
        _unavailable("PostgreSQL", exc)
    migrations.upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


# The seeded pipeline as migrations left it, per database: a test may rename or add stages,
# and the next test must find the seed again.
_SEEDED: dict[str, dict[str, list[dict[str, object]]]] = {}


async def _empty(db: Database) -> None:
    tables = [t for t in reversed(models.Base.metadata.sorted_tables) if t.name not in KEEP]
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in tables:
                await conn.execute(table.delete())
        else:
            names = ", ".join(f'"{t.name}"' for t in tables)
            await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await _restore_seed(conn, str(db.engine.url))
        await conn.execute(models.ReportChange.__table__.delete())  # what emptying marked


async def _restore_seed(conn: AsyncConnection, url: str) -> None:
    seeded = [models.Pipeline.__table__, models.PipelineStage.__table__]
    if url not in _SEEDED:
        _SEEDED[url] = {
            t.name: [dict(r._mapping) for r in await conn.execute(sa.select(t))] for t in seeded
        }
    for table in reversed(seeded):
        ids = [row["id"] for row in _SEEDED[url][table.name]]
        await conn.execute(table.delete().where(table.c.id.not_in(ids)))
    for table in seeded:
        for row in _SEEDED[url][table.name]:
            await conn.execute(table.update().where(table.c.id == row["id"]).values(**row))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await _empty(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_10AM)


@pytest.fixture
def company(clock: FrozenClock) -> Company:
    return Company(timezone=MSK, region="RU", locale="ru", currency="RUB", clock=clock)


@pytest.fixture
async def session(db: Database) -> AsyncIterator[models.db.AsyncSession]:
    """A unit of work for service tests; committed at the end like a real edge would."""
    async with db.unit_of_work() as s:
        yield s


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_wa() -> AsyncIterator[FakeWhatsApp]:
    """The fake Graph API (WhatsApp Cloud API); tests/conversations point the product at it."""
    fake = FakeWhatsApp()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def pg_server() -> str:
    """PostgreSQL for a benchmark's own scratch databases (its server URL): skipped when it is
    unreachable, failed in CI."""
    from bench import bot

    async def reachable() -> None:
        import asyncpg

        conn = await asyncpg.connect(f"{bot.PG_SERVER}/postgres", timeout=5)
        await conn.close()

    try:
        asyncio.run(reachable())
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    return bot.PG_SERVER


@pytest.fixture
def settings(db_url: str, fake_tg: FakeTelegram) -> Settings:
    return Settings(
        _env_file=None,
        database_url=db_url,
        telegram_bot_token=fake_tg.token,  # type: ignore[call-arg]
        telegram_api_base=fake_tg.base_url,
        forms_token="form-secret",
        telegram_webhook_secret="tg-secret",
        redis_prefix=REDIS_PREFIX,
        # Tests that are about pacing install the real limits themselves.
        telegram_global_rate=1000,
        telegram_chat_interval=0,
    )


@pytest.fixture
async def container(
    settings: Settings, clock: FrozenClock, db: Database
) -> AsyncIterator[Container]:
    built = Container.build(settings, clock=clock)
    built.make_pump(poll_interval=0.05)
    built.wire_outbox_nudges()
    yield built
    await built.close()


@pytest.fixture
def redis_prefix() -> str:
    """This run's Redis key prefix (settings built by the fixtures use it too)."""
    return REDIS_PREFIX


async def _delete_run_keys(client: Redis) -> None:
    keys = [key async for key in client.scan_iter(match=f"{REDIS_PREFIX}:*", count=1000)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """Redis for one test; only this run's keys are removed before and after, never others'."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        _unavailable("Redis", exc)
    await _delete_run_keys(client)
    yield client
    await _delete_run_keys(client)
    await client.aclose()


@pytest.fixture
async def web(container: Container, aiohttp_client):  # type: ignore[no-untyped-def]
    return await aiohttp_client(build_web_app(container))
