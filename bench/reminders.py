"""Reminders at scale: 5,000 reminders due in the same minute across 500 employees, through the
real scheduler job, outbox pump and rate limiter, to a fake Bot API that enforces Telegram's
limits (429 over ~30 messages/s overall or 1/s per chat).

    .venv/bin/python -m bench.reminders [--reminders 5000] [--employees 500] [--no-baseline]
        [--spread 60] [--lead 15]

Needs PostgreSQL (BENCH_PG_URL's server, default postgresql://postgres@127.0.0.1:5432): the
bench creates its own database, migrates it, adds the employees and their tasks (due evenly
over one minute starting a little after the set-up), runs `crm run`'s scheduler and outbox
pump in this process with the product's default limits (30 messages/s, 1 s per chat), waits
for every reminder to arrive, and drops the database.

It prints: how many messages carried the reminders (three or more waiting for one chat go as
one digest, a line each), reminders delivered, any delivered twice, 429s from the fake, the
lateness of each reminder (arrival minus due: p50, p95, max), and the total: from the first
due moment to the last arrival, beside the floor 30 messages/s sets for the same due times
(each message at max(its due moment, the previous one + 1/30 s)). Target: all delivered,
none twice, total within 10% of the floor. The baseline (skip it with --no-baseline) sends
the same reminders, a message each, at the same due moments with a bare aiogram Bot paced by
the same rate limiter, no database, in the same process: what the limiter alone allows.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bot import create_database, drop_database, wait_for_fake  # noqa: E402
from bench.calls import RemoteFake  # noqa: E402

RATE, CHAT_INTERVAL = 30.0, 1.0  # the product's defaults (Settings)
TELEGRAM_IDS = 500_000_000
_TITLE = re.compile(r"R(\d+)\b")


@dataclass(frozen=True)
class Figures:
    delivered: int
    twice: int
    refused_429: int
    lateness: list[float]
    total: float
    floor: float

    @property
    def ratio(self) -> float:
        return self.total / self.floor if self.floor else float("inf")


def floor_of(dues: list[float]) -> float:
    """From the first due moment to when the last message could arrive at RATE per second."""
    at = -1e18
    for due in sorted(dues):
        at = max(due, at + 1 / RATE)
    return at - min(dues)


def figures(dues: dict[int, float], arrivals: list[tuple[int, float]], refused: int) -> Figures:
    seen: dict[int, float] = {}
    twice = 0
    for n, at in arrivals:
        if n in seen:
            twice += 1
        else:
            seen[n] = at
    lateness = sorted(seen[n] - dues[n] for n in seen)
    total = max(seen.values()) - min(dues.values()) if seen else float("inf")
    return Figures(len(seen), twice, refused, lateness, total, floor_of(list(dues.values())))


def line(name: str, f: Figures, expected: int) -> str:
    cuts = statistics.quantiles(f.lateness, n=100) if len(f.lateness) > 1 else [0.0] * 99
    return (
        f"{name:22} delivered {f.delivered}/{expected}, twice {f.twice}, 429s {f.refused_429}; "
        f"lateness p50 {cuts[49]:5.1f} s, p95 {cuts[94]:5.1f} s, max {max(f.lateness):5.1f} s; "
        f"total {f.total:6.1f} s vs floor {f.floor:6.1f} s = {f.ratio:.3f}"
    )


async def seed(
    dsn: str, employees: int, reminders: int, first_due: datetime, spread: float
) -> dict[int, datetime]:
    """The employees and one open task per reminder ("R<n>"), due evenly over `spread` s."""
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        ids = await conn.fetch(
            """INSERT INTO employees (name, role, telegram_id, is_active, on_shift, created_at,
                                      updated_at)
               SELECT 'Сотрудник ' || n, 'employee', $1 + n, true, true, $2, $2
               FROM generate_series(1, $3) AS n RETURNING id""",
            TELEGRAM_IDS,
            now,
            employees,
        )
        people = [row["id"] for row in ids]
        dues = {n: first_due + timedelta(seconds=spread * n / reminders) for n in range(reminders)}
        await conn.executemany(
            """INSERT INTO tasks (kind, title, status, due_at, remind_at, assignee_id,
                                  reminders_sent, created_at, updated_at)
               VALUES ('general', $1, 'open', $2, $2, $3, 0, $4, $4)""",
            [(f"R{n}", due, people[n % len(people)], now) for n, due in dues.items()],
        )
        return dues
    finally:
        await conn.close()


def arrivals_of(calls: list[dict]) -> list[tuple[int, float]]:
    """(reminder number, arrival) for each reminder in each accepted message: a message of its
    own, or a line of a digest of several."""
    return [
        (int(number), call["at"])
        for call in calls
        if call["status"] == 200
        for number in _TITLE.findall(str(call["params"].get("text")))
    ]


def monotonic_of(moment: datetime, wall: datetime, mono: float) -> float:
    return mono + (moment - wall).total_seconds()


async def product(args: argparse.Namespace) -> Figures:
    import migrations
    from app import Container
    from config.settings import Settings
    from scheduler import runner

    name, dsn = await create_database("chatcrm_bench_reminders")
    fake = RemoteFake("--limits")
    container = None
    scheduler = None
    try:
        url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        await migrations.upgrade_async(url)
        await wait_for_fake(fake.base_url, fake.token)
        wall, mono = datetime.now(UTC), time.monotonic()
        first = wall + timedelta(seconds=args.lead)
        dues = await seed(dsn, args.employees, args.reminders, first, args.spread)
        due_at = {n: monotonic_of(d, wall, mono) for n, d in dues.items()}
        settings = Settings(
            _env_file=None,
            database_url=url,
            telegram_bot_token=fake.token,  # type: ignore[call-arg]
            telegram_api_base=fake.base_url,
            redis_url=None,
            telegram_global_rate=RATE,
            telegram_chat_interval=CHAT_INTERVAL,
        )
        container = Container.build(settings)
        container.make_pump().start()
        container.wire_outbox_nudges()
        scheduler = runner.start(container.db, container.company)
        print(
            f"{args.reminders} reminders for {args.employees} employees, due over {args.spread:g} s"
        )
        deadline = time.monotonic() + args.lead + 60 + 3 * floor_of(list(due_at.values()))
        while time.monotonic() < deadline:
            await asyncio.sleep(2)
            if len({n for n, _ in arrivals_of(await fake.calls("sendMessage"))}) >= args.reminders:
                break
        await asyncio.sleep(3)  # anything sent twice would arrive by now
        calls = await fake.calls("sendMessage")
        arrivals = arrivals_of(calls)
        refused = sum(1 for c in calls if c["status"] == 429)
        messages = sum(1 for c in calls if c["status"] == 200)
        print(f"chatcrm sent {messages} messages for {args.reminders} reminders")
        return figures(due_at, arrivals, refused)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if container is not None:
            await container.close()
        fake.stop()
        await drop_database(name)


async def baseline(args: argparse.Namespace) -> Figures:
    """The same messages at the same due moments: a bare aiogram Bot and the rate limiter."""
    from bot.telegram.factory import make_bot
    from scheduler.rate_limit import MemoryRateLimiter

    fake = RemoteFake("--limits")
    bot = None
    try:
        await wait_for_fake(fake.base_url, fake.token)
        bot = make_bot(fake.token, fake.base_url)
        limiter = MemoryRateLimiter(RATE, CHAT_INTERVAL)
        start = time.monotonic() + 2
        due_at = {n: start + args.spread * n / args.reminders for n in range(args.reminders)}

        async def send(n: int) -> None:
            await asyncio.sleep(max(due_at[n] - time.monotonic(), 0))
            chat = TELEGRAM_IDS + 1 + n % args.employees
            while True:
                await limiter.acquire(str(chat))
                try:
                    await bot.send_message(chat_id=chat, text=f"⏰ R{n}")  # type: ignore[union-attr]
                    return
                except Exception:  # a 429 from the fake: after its retry_after
                    await asyncio.sleep(1)

        await asyncio.gather(*(send(n) for n in range(args.reminders)))
        calls = await fake.calls("sendMessage")
        arrivals = arrivals_of(calls)
        refused = sum(1 for c in calls if c["status"] == 429)
        return figures(due_at, arrivals, refused)
    finally:
        if bot is not None:
            await bot.session.close()
        fake.stop()


async def run(args: argparse.Namespace) -> tuple[Figures, Figures | None]:
    ours = await product(args)
    print(line("chatcrm", ours, args.reminders))
    bare = None
    if args.baseline:
        bare = await baseline(args)
        print(line("bare aiogram + limiter", bare, args.reminders))
    ok = ours.delivered == args.reminders and ours.twice == 0 and ours.ratio <= 1.10
    print(
        f"target (all delivered, none twice, total within 10% of the floor): "
        f"{'met' if ok else 'MISSED'}"
    )
    return ours, bare


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=5000)
    parser.add_argument("--employees", type=int, default=500)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the dues spread over")
    parser.add_argument("--lead", type=float, default=15.0, help="seconds to the first due")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
