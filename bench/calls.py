"""A burst of Mango Office call scenarios against a running product, with screen-pop latency.

    .venv/bin/python bench/calls.py [--scenarios 2000] [--numbers 200] [--employees 50]

Needs PostgreSQL (BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/chatcrm_bench;
recreated). Starts the in-repo fake Bot API in this process and `crm run` (web, bot, outbox
worker) pointed at it. Each scenario is a call from one of `--numbers` numbers to a random
employee's extension, posted as Mango does: Appeared → Connected → Disconnected → summary,
signed, one after another; `--concurrency` scenarios run at once.

Prints events/s and the p50/p99 of the webhook answers, and the time from posting Appeared
to the card's sendMessage arriving at the fake Bot API (p50/p99). The product's Telegram
limits apply (`--global-rate`, default 30 msg/s as Telegram allows; `--chat-interval`, 1 s per
chat): with them, the cards of a burst faster than 30 new calls/s queue by design, so the run
also reports with the limits the fake server could take (`--global-rate 1000`).
The baseline is a bare aiohttp handler in this process that checks the same signature and
answers 200, to show what the HTTP round trip alone costs here.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import PG_URL, free_port, recreate_database, wait_up  # noqa: E402

KEY, SALT = "bench-key", "bench-salt"
T0 = 1764572400


def signed(data: dict) -> dict[str, str]:
    body = json.dumps(data, separators=(",", ":"))
    return {
        "vpbx_api_key": KEY,
        "sign": hashlib.sha256((KEY + body + SALT).encode()).hexdigest(),
        "json": body,
    }


def scenario(n: int, number: str, extension: str) -> list[tuple[str, dict]]:
    entry, leg, t = f"bench-entry-{n}", f"bench-leg-{n}", T0 + n
    caller = {"number": number}
    callee = {"extension": extension, "line_number": "74951234567"}

    def event(seq: int, state: str, at: int, **extra: object) -> dict:
        return {
            "entry_id": entry,
            "call_id": leg,
            "timestamp": at,
            "seq": seq,
            "call_state": state,
            "location": "abonent",
            "from": caller,
            "to": callee,
            **extra,
        }

    return [
        ("call", event(1, "Appeared", t)),
        ("call", event(2, "Connected", t + 5)),
        ("call", event(3, "Disconnected", t + 65, disconnect_reason=1110)),
        (
            "summary",
            {
                "entry_id": entry,
                "call_direction": 1,
                "from": caller,
                "to": {"extension": extension},
                "line_number": "74951234567",
                "create_time": t,
                "forward_time": t + 1,
                "talk_time": t + 5,
                "end_time": t + 65,
                "entry_result": 1,
                "disconnect_reason": 1110,
            },
        ),
    ]


async def bare_server(port: int) -> web.AppRunner:
    async def receive(request: web.Request) -> web.Response:
        form = await request.post()
        expected = hashlib.sha256((KEY + str(form["json"]) + SALT).encode()).hexdigest()
        json.loads(str(form["json"]))
        return web.json_response({"status": "ok" if form["sign"] == expected else "bad"})

    app = web.Application()
    app.router.add_post("/webhooks/mango/events/{event}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def burst(
    base: str,
    scenarios: list[list[tuple[str, dict]]],
    concurrency: int,
    appeared_at: dict[int, float] | None = None,
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = list(enumerate(scenarios))[::-1]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            while queue:
                n, steps = queue.pop()
                for event, data in steps:
                    started = time.perf_counter()
                    if appeared_at is not None and data.get("call_state") == "Appeared":
                        appeared_at[n] = time.monotonic()
                    async with http.post(
                        f"{base}/webhooks/mango/events/{event}", data=signed(data)
                    ) as response:
                        await response.read()
                        if response.status != 200:
                            raise RuntimeError(f"HTTP {response.status}: {await response.text()}")
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def quantiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100)
    return q[49] * 1000, q[98] * 1000


async def seed(env: dict[str, str], employees: int) -> None:
    crm = str(Path(sys.executable).parent / "crm")
    subprocess.run([crm, "migrate"], env=env, check=True, capture_output=True)
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.executemany(
            "INSERT INTO employees (name, role, telegram_id, extension, is_active, on_shift)"
            " VALUES ($1, 'employee', $2, $3, true, true)",
            [(f"Bench {i}", 800_000 + i, str(100 + i)) for i in range(employees)],
        )
    finally:
        await conn.close()


class RemoteFake:
    """The fake Bot API in its own process, so the load generator can't slow its answers."""

    token = "7000000001:AAE-bench"

    def __init__(self, *extra: str) -> None:
        """`extra`: more options for the fake (`--limits`)."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fakes.telegram_api",
                "--port",
                str(self.port),
                "--token",
                self.token,
                "--quiet",
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )

    async def calls(self, method: str) -> list[dict]:
        async with aiohttp.ClientSession() as http:
            url = f"{self.base_url}/_fake/calls"
            async with http.get(url, params={"method": method}) as response:
                return await response.json()

    async def wait_for(self, method: str, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = [c for c in await self.calls(method) if c["status"] == 200]
            except aiohttp.ClientError:
                found = []
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.25)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def run(args: argparse.Namespace) -> None:
    await recreate_database()
    fake = RemoteFake()
    env = {
        **os.environ,
        "DATABASE_URL": PG_URL,
        "MANGO_API_KEY": KEY,
        "MANGO_API_SALT": SALT,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.base_url,
        "TELEGRAM_GLOBAL_RATE": str(args.global_rate),
        "TELEGRAM_CHAT_INTERVAL": str(args.chat_interval),
        "REDIS_URL": "",
        "PUBLIC_URL": "",
    }
    await seed(env, args.employees)
    port, bare_port = free_port(), free_port()
    crm = str(Path(sys.executable).parent / "crm")
    if args.split:  # the scale-out layout: web, outbox worker and bot as separate processes
        env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
        roles = [["--only", "web"], ["--only", "worker"], ["--only", "bot"]]
    else:
        roles = [[]]
    processes = [
        subprocess.Popen(
            [crm, "run", *role],
            cwd=ROOT,
            env={**env, "HTTP_PORT": str(port)},
            stderr=subprocess.DEVNULL,
        )
        for role in roles
    ]
    bare = await bare_server(bare_port)
    rng = random.Random(7)
    numbers = [f"7912{rng.randrange(10**7):07d}" for _ in range(args.numbers)]
    extensions = {str(100 + i): 800_000 + i for i in range(args.employees)}
    plan = [(rng.choice(numbers), rng.choice(list(extensions))) for _ in range(args.scenarios)]
    scenarios = [scenario(n, number, ext) for n, (number, ext) in enumerate(plan)]
    try:
        await wait_up(f"http://127.0.0.1:{port}", timeout=40)
        await fake.wait_for("getUpdates", timeout=30)
        bare_time, bare_lat = await burst(
            f"http://127.0.0.1:{bare_port}", scenarios, args.concurrency
        )
        appeared: dict[int, float] = {}
        elapsed, lat = await burst(
            f"http://127.0.0.1:{port}", scenarios, args.concurrency, appeared
        )
        sends = await fake.wait_for("sendMessage", count=args.scenarios, timeout=args.drain_timeout)
        pops = _screen_pop_latencies(sends, plan, extensions, appeared)
        events = 4 * args.scenarios
        layout = "web + worker + bot processes, Redis" if args.split else "one crm run process"
        print(f"layout: {layout}")
        print(
            f"{args.scenarios} call scenarios x 4 Mango events, {args.numbers} numbers, "
            f"{args.employees} employees, {args.concurrency} at once; Telegram limits "
            f"{args.global_rate:g} msg/s overall, {args.chat_interval:g} s per chat"
        )
        for name, took, values in (
            ("bare signed 200", bare_time, bare_lat),
            ("chatcrm webhook", elapsed, lat),
        ):
            p50, p99 = quantiles(values)
            print(
                f"{name:<22} {events / took:7.0f} events/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
            )
        p50, p99 = quantiles(pops)
        print(
            f"{'Appeared -> card':<22} {len(pops):7d} cards      p50 {p50:6.1f} ms   "
            f"p99 {p99:6.1f} ms   (at the fake Bot API)"
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
        await bare.cleanup()
        fake.stop()


def _screen_pop_latencies(
    sends: list[dict],
    plan: list[tuple[str, str]],
    extensions: dict[str, int],
    appeared: dict[int, float],
) -> list[float]:
    """Match each scenario's Appeared to the first unmatched card for that chat and number
    (both sides use time.monotonic(), one clock for all processes of the machine)."""
    used: set[int] = set()
    result = []
    for n, (number, ext) in sorted(enumerate(plan), key=lambda x: appeared.get(x[0], 0)):
        chat, shown = extensions[ext], f"+7 912 {number[4:7]}-{number[7:9]}-{number[9:]}"
        for i, call in enumerate(sends):
            params = call["params"]
            if i not in used and params["chat_id"] == chat and shown in params["text"]:
                used.add(i)
                result.append(max(call["at"] - appeared[n], 0.0))
                break
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=2000)
    parser.add_argument("--numbers", type=int, default=200)
    parser.add_argument("--employees", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--global-rate", type=float, default=30)
    parser.add_argument("--chat-interval", type=float, default=1.0)
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument(
        "--split",
        action="store_true",
        help="run web, worker and bot as separate processes (with Redis)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
