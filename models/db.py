"""Engine, session factory and the unit of work every entry point opens."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models.text import SQLITE_FOLD, fold_or_none


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine tuned per backend: SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_recycle", 1800)
    # A pooled connection may have been dropped (database restarted, backends killed, network
    # gone): `_check_on_checkout` replaces it before a unit of work gets it, without the round
    # trip SQLAlchemy's pool_pre_ping costs every unit of work (measured: about a third of a
    # bot update's own time). pool_pre_ping=True still pings every checkout.
    always_ping = kwargs.pop("pool_pre_ping", False)
    # No JIT for any connection (sent once at connect, no round trip per query): compiling a
    # plan whose estimate is high takes longer than running it. Plans stay PostgreSQL's
    # choice (a prepared statement's generic plan saves the timeline 1.5 ms of planning);
    # searches ask for custom plans in their own transaction (services.clients.search).
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("server_settings", {}).update({"jit": "off"})
    engine = create_async_engine(
        url, connect_args=connect_args, pool_pre_ping=always_ping, **kwargs
    )
    if not always_ping:
        sa.event.listen(engine.sync_engine, "checkout", _check_on_checkout(engine.dialect))
        sa.event.listen(engine.sync_engine, "checkin", _rested_from)
    return engine


IDLE_PING = 2.0  # seconds a pooled connection may rest before it is pinged on checkout
_CHECKED_IN = "checked_in_at"


def _rested_from(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _check_on_checkout(dialect: sa.Dialect) -> Callable[[Any, Any, Any], None]:
    """SQLAlchemy's "pessimistic disconnect handling", made cheap: a connection the server
    closed (a restart or pg_terminate_backend sends a goodbye the driver has already read) is
    replaced at once, with no round trip; one that rested longer than IDLE_PING is pinged,
    for a drop nobody said goodbye to. Raising DisconnectionError makes the pool replace the
    connection and try again."""

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        is_closed = getattr(driver, "is_closed", None)
        if is_closed is not None and is_closed():
            raise sa.exc.DisconnectionError("the server closed this pooled connection")
        rested = time.monotonic() - record.info.get(_CHECKED_IN, time.monotonic())
        if rested <= IDLE_PING:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"a rested connection was dropped: {exc}") from exc

    return checkout


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take over BEGIN from the driver (SQLAlchemy's documented pysqlite/aiosqlite recipe) so
    # that savepoints work and every transaction holds the write lock from its start: readers
    # never see a stale snapshot that a later write would fail on ("database is locked").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    dbapi_connection.create_function(SQLITE_FOLD, 1, fold_or_none, deterministic=True)


def _sqlite_begin_immediate(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# Set in `session.info` by services.outbox.enqueue; after commit the outbox pump is nudged.
OUTBOX_DIRTY = "outbox_dirty"


class Database:
    """Owns the engine; `unit_of_work()` commits on success and rolls back on error.

    Callables in `after_outbox_commit` run after a commit that wrote outbox rows (never for
    work that rolled back): that is how the pump learns there is something to send.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.after_outbox_commit: list[Callable[[], None]] = []

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        if session.info.pop(OUTBOX_DIRTY, False):
            for callback in self.after_outbox_commit:
                callback()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def insert_ignoring_conflicts(session: AsyncSession, table: sa.Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's backend (SQLite or PostgreSQL)."""
    return insert_ignoring(session.get_bind().dialect.name, table)


@cache  # statements are immutable; building them is a real cost on hot paths
def insert_ignoring(dialect: str, table: sa.Table) -> Any:
    """`insert_ignoring_conflicts` for a dialect named "postgresql" or "sqlite"."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


async def next_in_sequence(session: AsyncSession, name: str, count: int = 1) -> list[int]:
    """The next `count` numbers of a named sequence, locking nothing other writers need.

    PostgreSQL: a real SEQUENCE (created by a migration), outside the transaction's locks.
    SQLite: a row in `counters` (SQLite serialises writers anyway).
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        stmt = sa.text(f"SELECT nextval('{name}') FROM generate_series(1, :n)")
        return list((await session.execute(stmt, {"n": count})).scalars())
    from sqlalchemy.dialects.sqlite import insert

    from models.counter import Counter

    stmt = (
        insert(Counter)
        .values(name=name, value=count)
        .on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + count})
        .returning(Counter.value)
    )
    last = (await session.execute(stmt)).scalar_one()
    return list(range(last - count + 1, last + 1))
