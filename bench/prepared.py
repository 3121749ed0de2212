"""What one small statement costs this process: through the SQLAlchemy session, as a
`models.prepared.Prepared` statement, and through asyncpg directly (the bare baseline), in
the same run on the same connection.

    .venv/bin/python -m bench.prepared [--runs 5000]

Needs PostgreSQL (BENCH_PG_URL's server, default postgresql://postgres@127.0.0.1:5432): the
bench creates its own database (chatcrm_bench_prepared_<pid>), fills a small table and drops
the database at the end. Prints CPU microseconds per statement (process time: the server's
work is another process's), the figure the README's staff-bot section quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.db import Database  # noqa: E402
from models.prepared import Prepared  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/chatcrm_bench")
SERVER = PG_URL.rsplit("/", 1)[0]

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.String(100)),
    sa.Column("office_id", sa.Integer),
    sa.Column("phone", sa.String(20)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
STATEMENT = (
    sa.select(people.c.id, people.c.name, people.c.phone, people.c.created_at)
    .where(people.c.office_id == sa.bindparam("office_id", type_=sa.Integer))
    .where(people.c.id > sa.bindparam("after", type_=sa.BigInteger))
    .order_by(people.c.id)
    .limit(10)
)


async def cpu_per_run(runs: int, run: Callable[[int], Awaitable[object]]) -> float:
    for i in range(min(runs, 200)):  # warm: compiled, prepared, cached
        await run(i)
    started = time.process_time()
    for i in range(runs):
        await run(i)
    return (time.process_time() - started) / runs * 1e6


async def main(runs: int) -> None:
    name = f"chatcrm_bench_prepared_{os.getpid()}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{name}")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            rows = [{"name": f"n{i}", "office_id": i % 5, "phone": str(i)} for i in range(1000)]
            await conn.execute(people.insert(), rows)
        prepared = Prepared(STATEMENT)
        async with AsyncSession(db.engine) as session:

            def params(i: int) -> dict[str, int]:
                return {"office_id": 1, "after": i % 500}

            async def through_session(i: int) -> object:
                return (await session.execute(STATEMENT, params(i))).all()

            async def as_prepared(i: int) -> object:
                return await prepared.all(session, params(i))

            raw = (await (await session.connection()).get_raw_connection()).driver_connection
            compiled = STATEMENT.compile(dialect=db.engine.dialect)
            statement = await raw.prepare(compiled.string)

            async def bare_asyncpg(i: int) -> object:
                return await statement.fetch(1, i % 500, 10)

            assert [tuple(r) for r in await through_session(3)] == [
                tuple(r) for r in await as_prepared(3)
            ]
            figures = {
                "bare asyncpg (prepared statement)": await cpu_per_run(runs, bare_asyncpg),
                "SQLAlchemy session.execute": await cpu_per_run(runs, through_session),
                "models.prepared.Prepared": await cpu_per_run(runs, as_prepared),
            }
        print(f"CPU of this process per statement, {runs:,} runs each (a 4-column, 10-row read):")
        for label, micros in figures.items():
            print(f"  {label:36} {micros:7.1f} µs")
    finally:
        await db.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    asyncio.run(main(parser.parse_args().runs))
