"""Client timeline pages on PostgreSQL with 100,000 clients and 1,000,000 timeline events.

    .venv/bin/python bench/timeline.py [--clients 100000] [--events 1000000] [--pages 2000]

Needs PostgreSQL (BENCH_TIMELINE_PG_URL, default
postgresql://postgres@127.0.0.1:5432/chatcrm_bench_timeline; recreated and migrated). Seeds
200 employees, the clients, and the events spread over them (leads 25 %, calls 25 %, notes
20 %, tasks 15 %, deals 10 %, stage changes 5 %), then reads `--pages` random timeline pages
(0, 1 or 2) of random clients through `services.clients.timeline.page`, as the client card
does, and prints p50/p99. The baseline is `SELECT 1` on the same session in the same loop:
what one round trip alone costs here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

import migrations  # noqa: E402
from models.db import Database  # noqa: E402
from services.clients import timeline  # noqa: E402
from services.errors import NotFound  # noqa: E402

PG_URL = os.environ.get(
    "BENCH_TIMELINE_PG_URL", "postgresql://postgres@127.0.0.1:5432/chatcrm_bench_timeline"
)
SHARES = {"leads": 25, "calls": 25, "notes": 20, "tasks": 15, "deals": 10, "moves": 5}

SEED = """
insert into employees (name, role, is_active, on_shift, created_at, updated_at)
  select 'E' || g, 'employee', true, true, now(), now() from generate_series(1, 200) g;
insert into clients (kind, name, owner_id, created_at, updated_at)
  select 'person', 'Client ' || g, 1 + g % 200, now(), now() from generate_series(1, {clients}) g;
insert into leads (client_id, status, source, extra, is_returning, phone_invalid,
                   created_at, updated_at)
  select 1 + g % {clients}, 'new', 'form:site', '{{}}', false, false,
         now() - g * interval '1 minute', now() from generate_series(1, {leads}) g;
insert into calls (provider, external_id, direction, client_id, status, phase, legs,
                   talk_seconds, started_at, created_at, updated_at)
  select 'generic', 'c' || g, 'in', 1 + g % {clients}, 'answered', 'ended', '{{}}', 0,
         now() - g * interval '1 minute', now(), now() from generate_series(1, {calls}) g;
insert into notes (client_id, author_id, text, created_at, updated_at)
  select 1 + g % {clients}, 1 + g % 200, 'note ' || g, now() - g * interval '1 minute', now()
  from generate_series(1, {notes}) g;
insert into tasks (kind, title, status, client_id, assignee_id, created_at, updated_at)
  select 'general', 'task ' || g, 'open', 1 + g % {clients}, 1 + g % 200,
         now() - g * interval '1 minute', now() from generate_series(1, {tasks}) g;
insert into deals (client_id, pipeline_id, stage_id, title, currency, owner_id, status,
                   created_at, updated_at)
  select 1 + g % {clients}, 1, 2, 'deal ' || g, 'RUB', 1 + g % 200, 'open',
         now() - g * interval '1 minute', now() from generate_series(1, {deals}) g;
insert into deal_stage_changes (deal_id, from_stage_id, to_stage_id, by_id, at)
  select 1 + g % {deals}, 2, 3, 1 + g % 200, now() - g * interval '1 minute'
  from generate_series(1, {moves}) g;
analyze;
"""


async def seed(clients: int, events: int) -> None:
    admin_url, name = PG_URL.rsplit("/", 1)
    conn = await asyncpg.connect(admin_url + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await asyncio.to_thread(migrations.upgrade, _sa_url())
    counts = {kind: events * share // 100 for kind, share in SHARES.items()}
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(SEED.format(clients=clients, **counts))
    finally:
        await conn.close()


def _sa_url() -> str:
    return PG_URL.replace("postgresql://", "postgresql+asyncpg://", 1)


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms"


async def measure(clients: int, pages: int) -> None:
    db = Database(_sa_url())
    bare: list[float] = []
    product: list[float] = []
    async with db.unit_of_work() as session:
        for i in range(pages + 100):
            client_id, number = random.randint(1, clients), random.choice((0, 0, 0, 1, 2))
            started = time.perf_counter()
            await session.execute(sa.text("SELECT 1"))
            took_bare = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            try:
                await timeline.page(session, client_id, number)
            except NotFound:
                pass  # a short history has no page 2; the refusal costs the same query
            took = (time.perf_counter() - started) * 1000
            if i >= 100:  # warm-up: connection, statement cache, prepared statements
                bare.append(took_bare)
                product.append(took)
    await db.engine.dispose()
    print(f"SELECT 1        {_percentiles(bare)}")
    print(f"timeline page   {_percentiles(product)}   ({pages} pages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    args = parser.parse_args()
    if not args.no_seed:
        started = time.perf_counter()
        asyncio.run(seed(args.clients, args.events))
        print(
            f"seeded {args.clients} clients, {args.events} events in "
            f"{time.perf_counter() - started:.0f} s"
        )
    asyncio.run(measure(args.clients, args.pages))


if __name__ == "__main__":
    main()
