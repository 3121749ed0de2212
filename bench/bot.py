"""The staff bot under load: searches, card views, timeline pages and button presses from 200
employees over 100,000 clients and 1,000,000 timeline events, beside a bare aiogram dispatcher.

    .venv/bin/python -m bench.bot [--clients 100000] [--events 1000000] [--updates 6000]
    .venv/bin/python -m bench.bot --quick          # small sizes: a smoke run in seconds

Needs PostgreSQL (BENCH_PG_URL's server, default postgresql://postgres@127.0.0.1:5432): the
bench creates its own database (chatcrm_bench_bot_<pid>_<random>), migrates it with the
project's migrations, fills it (bench/bot_data.py) and drops it at the end. The fake Bot API
runs in its own process.

Updates are built as Telegram sends them (messages with text and commands, callback queries
with the real packed callback data of handlers/callbacks.py on the employee's screen message)
from a table of kinds (KINDS), each employee's updates in order, `--concurrency` employees at
once. Both dispatchers get the same updates in the same run, in alternating rounds:

- chatcrm: the product's dispatcher (`container.dispatcher.feed_raw_update`, as tests do):
  its unit of work, employee lookup and handlers; screens go to the outbox.
- bare aiogram: a Dispatcher with one router that answers a message with sendMessage, a
  button with answerCallbackQuery + editMessageText and an inline query with an empty
  answerInlineQuery, at the same fake Bot API.

A handling time is one feed_raw_update. With `--concurrency` updates in flight it includes
waiting for the others on the one event loop (its p99 is printed without a verdict), so
`--alone` more updates are then fed one at a time to each dispatcher: an update's own cost.
Then `--steady` more arrive at random at `--load` (default half) of the chatcrm throughput
just measured, to both dispatchers at the same rate: the handling times of a busy working
day, where updates overlap but no queue is kept full. Per kind the bench prints how many
updates a real handler answered (not the "stale button" fallback, not unhandled), so a reader
sees that searches were searches. Timeline pages (1-3) are asked of the clients with the most
events. Then the outbox pump delivers the screens the run produced, with Telegram's limits
lifted for the fake, and the bench prints how long that took.

The parts: bot_data.py fills the database, bot_workload.py builds the updates,
bot_dispatch.py feeds them (and holds the bare baseline), bot_report.py prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import itertools
import logging
import os
import pstats
import random
import secrets
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402

from bench import bot_data  # noqa: E402
from bench.bot_cost import by_kind  # noqa: E402
from bench.bot_dispatch import Result, bare_dispatcher, feed, steady, watch  # noqa: E402
from bench.bot_report import report  # noqa: E402
from bench.bot_workload import KINDS, Workload, lanes, plan  # noqa: E402
from bench.calls import RemoteFake  # noqa: E402

# The server of BENCH_PG_URL (as for the other benches); the database is this run's own.
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/chatcrm_bench")
PG_SERVER = PG_URL.rsplit("/", 1)[0]


_T0 = time.perf_counter()


def progress(what: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f} s] {what}", file=sys.stderr, flush=True)


async def create_database(prefix: str = "chatcrm_bench_bot") -> tuple[str, str]:
    """A database of this run's own on BENCH_PG_URL's server: its name and URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, f"{PG_SERVER}/{name}"


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def wait_for_fake(base_url: str, token: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{base_url}/bot{token}/getMe") as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Bot API did not come up")
            await asyncio.sleep(0.1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole bench; prints the report and returns the figures (for the smoke test)."""
    import migrations
    from app import Container
    from bot.telegram.factory import make_bot
    from config.settings import Settings

    name, dsn = await create_database()
    fake = RemoteFake()
    container: Container | None = None
    bare_bot: Bot | None = None
    try:
        await migrations.upgrade_async(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
        sizes = bot_data.Sizes(args.employees, args.clients, args.events)
        progress(f"database {name} migrated")
        data = await bot_data.build(dsn, sizes, seed=args.seed)
        progress("data built")
        await wait_for_fake(fake.base_url, fake.token)
        settings = Settings(
            _env_file=None,
            database_url=dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            telegram_bot_token=fake.token,  # type: ignore[call-arg]
            telegram_api_base=fake.base_url,
            redis_url=None,
            telegram_global_rate=1000,
            telegram_chat_interval=0,
        )
        container = Container.build(settings)
        assert container.dispatcher is not None and container.bot is not None
        watch(container.dispatcher)
        bare_bot = make_bot(fake.token, fake.base_url)
        bare = bare_dispatcher()
        screens = await _screens(container.bot, data.employees)
        workload = Workload(data, screens)
        rng = random.Random(args.seed)
        kinds = tuple(k for k in KINDS if not args.only or k.name in args.only)
        warm = plan(workload, args.warmup, rng, kinds)
        measured = plan(workload, args.updates, rng, kinds)
        single = plan(workload, args.alone, rng, kinds)
        calm_steps = plan(workload, args.steady, rng, kinds)
        # As `crm run` does once the product is built (cli/run.py): what exists now lives for
        # the whole run (here also the bench's own data and every update it will send), so
        # the collector stops rescanning it.
        gc.collect()
        gc.freeze()
        half = len(measured) // 2
        rounds = [measured[:half], measured[half:]]
        next_id = itertools.count(1, 10_000_000)
        # Warm both (connections, caches, PostgreSQL's buffers), then alternate which goes first.
        progress("warming up")
        await feed(bare, bare_bot, lanes(warm, args.concurrency, 0))
        await feed(
            container.dispatcher, container.bot, lanes(warm, args.concurrency, next(next_id))
        )
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("DELETE FROM outbox")  # the warm-up's screens are not measured
        finally:
            await conn.close()
        took: dict[str, float] = defaultdict(float)
        cpu: dict[str, float] = defaultdict(float)  # this process's CPU seconds per side
        results: dict[str, list[Result]] = defaultdict(list)
        profiler = cProfile.Profile()
        for n, steps in enumerate(rounds):
            order = [("bare", bare, bare_bot), ("chatcrm", container.dispatcher, container.bot)]
            for side, dispatcher, bot in order if n % 2 == 0 else order[::-1]:
                plan_lanes = lanes(steps, args.concurrency, next(next_id))
                progress(f"round {n + 1}: {side}")
                profiling = args.profile and side == "chatcrm"
                if profiling:
                    profiler.enable()
                cpu_before = time.process_time()
                elapsed, found = await feed(dispatcher, bot, plan_lanes)
                cpu[side] += time.process_time() - cpu_before
                if profiling:
                    profiler.disable()
                took[side] += elapsed
                results[side] += found
        # One at a time: an update's own cost, with no other update sharing the event loop.
        alone: dict[str, list[Result]] = {}
        for side, dispatcher, bot in order:
            progress(f"one at a time: {side}")
            alone[side] = (await feed(dispatcher, bot, lanes(single, 1, next(next_id))))[1]
        # A working day's load: arrivals at a share of the throughput measured above, to both.
        rate = args.load * len(results["chatcrm"]) / took["chatcrm"]
        calm: dict[str, list[Result]] = {}
        for side, dispatcher, bot in order:
            progress(f"steady {rate:.0f} updates/s: {side}")
            calm[side] = (
                await steady(
                    dispatcher, bot, calm_steps, rate, random.Random(args.seed), next(next_id)
                )
            )[1]
        if args.by_kind:
            progress("by kind")
            await by_kind(
                workload,
                container.dispatcher,
                container.bot,
                dsn,
                name,
                args.by_kind,
                args.concurrency,
                next(next_id),
                args.seed,
            )
        progress("outbox pump")
        pump = await _drain(container, dsn)
        figures = report(args, data, took, cpu, results, alone, pump, calm=calm, rate=rate)
        if args.profile:
            profiler.dump_stats(args.profile)
            print(f"\nchatcrm rounds profiled (cProfile, this process): {args.profile}")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)  # CPU, not waits
        return figures
    finally:
        if container is not None:
            await container.close()
        if bare_bot is not None:
            await bare_bot.session.close()
        fake.stop()
        if not args.keep_db:
            progress("dropping the database")
            await drop_database(name)
            progress("done")
        else:
            print(f"database kept: {dsn}")


async def _screens(bot: Bot, employees: list[bot_data.Employee]) -> dict[int, dict[str, Any]]:
    """One message from the bot in each employee's chat: the screen their buttons are on."""
    screens: dict[int, dict[str, Any]] = {}

    async def send(e: bot_data.Employee) -> None:
        sent = await bot.send_message(e.telegram_id, "chatcrm", parse_mode=None)
        screens[e.id] = sent.model_dump(mode="json", by_alias=True, exclude_none=True)

    for start in range(0, len(employees), 50):
        await asyncio.gather(*(send(e) for e in employees[start : start + 50]))
    return screens


async def _drain(container: Any, dsn: str, timeout: float = 300) -> dict[str, Any]:
    """Start the outbox pump and time it until every screen of the run is delivered (counted
    on a connection of our own, outside the product's pool)."""
    conn = await asyncpg.connect(dsn)
    try:

        async def counts() -> dict[str, int]:
            rows = await conn.fetch("SELECT status, count(*) AS n FROM outbox GROUP BY status")
            return {row["status"]: row["n"] for row in rows}

        edits = await conn.fetchval("SELECT count(*) FROM outbox WHERE payload ? 'edit_message_id'")
        total = sum((await counts()).values())
        pump = container.make_pump(batch=50, poll_interval=0.05)
        started = time.perf_counter()
        pump.start()
        while time.perf_counter() < started + timeout:
            now = await counts()
            if not now.get("pending") and not now.get("sending"):
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await asyncio.wait_for(pump.stop(), 30)
        return {"rows": total, "edits": edits or 0, "seconds": elapsed, "statuses": await counts()}
    finally:
        await conn.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000, help="timeline events")
    parser.add_argument("--updates", type=int, default=6000, help="measured updates per side")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=12, help="employees at once")
    parser.add_argument("--alone", type=int, default=600, help="updates fed one at a time")
    parser.add_argument(
        "--steady", type=int, default=1200, help="updates arriving at a steady rate, per side"
    )
    parser.add_argument(
        "--load",
        type=float,
        default=0.5,
        help="the steady rate as a share of the chatcrm throughput measured (default 0.5)",
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the chatcrm rounds into FILE")
    parser.add_argument(
        "--by-kind",
        type=int,
        default=0,
        metavar="N",
        help="then N updates of each kind: CPU per update here and in PostgreSQL",
    )
    parser.add_argument(
        "--only", action="append", metavar="KIND", help="only updates of this kind (repeatable)"
    )
    parser.add_argument("--keep-db", action="store_true", help="don't drop the database")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.events = min(args.clients, 2000), min(args.events, 20_000)
        args.updates, args.warmup = min(args.updates, 300), min(args.warmup, 40)
        args.alone, args.steady = min(args.alone, 40), min(args.steady, 60)
    return args


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
