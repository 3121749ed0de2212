"""Form-lead intake throughput: the product vs a bare aiohttp + asyncpg endpoint, same run.

    .venv/bin/python bench/ingest.py [--requests 4000] [--concurrency 64]

Needs PostgreSQL (BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/chatcrm_bench; the
database is recreated). Starts `crm run --only web` and the bare endpoint as separate processes,
posts Tilda-style urlencoded leads (unique tranid, phones from a pool so some clients return,
every 20th delivery a retry of an earlier one) at N concurrent connections to each, and prints
leads/s and p50/p99 latency for both and their ratio. The bare endpoint does the same
dedup-and-insert (inbound event ON CONFLICT DO NOTHING, then the lead) in one transaction;
the product also resolves the client, assigns an employee and writes the card to the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/chatcrm_bench")
TOKEN = "bench-token"


# --- the bare endpoint ----------------------------------------------------------------------

BARE_SCHEMA = """
CREATE TABLE IF NOT EXISTS bare_inbound (id bigserial PRIMARY KEY, source text NOT NULL,
    external_id text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id));
CREATE TABLE IF NOT EXISTS bare_leads (id bigserial PRIMARY KEY, source text, name text,
    phone text, utm_source text, created_at timestamptz NOT NULL DEFAULT now());
"""


async def bare_server(port: int) -> None:
    from aiohttp import web

    pool = await asyncpg.create_pool(PG_URL, min_size=10, max_size=10)
    async with pool.acquire() as conn:
        await conn.execute(BARE_SCHEMA)

    async def receive(request: web.Request) -> web.Response:
        form = await request.post()
        if request.query.get("token") != TOKEN:
            return web.json_response({"error": "bad_token"}, status=401)
        async with pool.acquire() as conn, conn.transaction():
            new = await conn.fetchval(
                "INSERT INTO bare_inbound (source, external_id) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING id",
                "form:tilda",
                form["tranid"],
            )
            if new is not None:
                await conn.execute(
                    "INSERT INTO bare_leads (source, name, phone, utm_source) "
                    "VALUES ($1, $2, $3, $4)",
                    "form:tilda",
                    form.get("Name"),
                    form.get("Phone"),
                    form.get("utm_source"),
                )
        return web.json_response({"status": "ok", "duplicate": new is None})

    app = web.Application()
    app.router.add_post("/webhooks/forms/{source}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# --- load -----------------------------------------------------------------------------------


def payloads(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    bodies = []
    for i in range(count):
        if i % 20 == 19:  # Tilda's retry of an earlier delivery
            bodies.append(bodies[rng.randrange(len(bodies))])
            continue
        phone = f"+7 (912) {rng.randrange(1000):03d}-{rng.randrange(100):02d}-{rng.randrange(10)}0"
        bodies.append(
            urlencode(
                {
                    "Name": f"Клиент {i}",
                    "Phone": phone,
                    "Email": f"c{rng.randrange(3000)}@example.ru",
                    "tranid": f"{seed}{i}:{rng.randrange(10**9)}",
                    "formid": "form1234",
                    "utm_source": rng.choice(["yandex", "vk", "avito"]),
                    "utm_medium": "cpc",
                }
            )
        )
    return bodies


async def load(url: str, bodies: list[str], concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = list(reversed(bodies))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{url}: HTTP {response.status}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url.split("/webhooks")[0] + "/healthz"):
                    return  # any HTTP answer: the server is listening
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def recreate_database() -> None:
    admin_url, name = PG_URL.rsplit("/", 1)
    conn = await asyncpg.connect(admin_url + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def seed_staff(env: dict[str, str]) -> None:
    crm = str(Path(sys.executable).parent / "crm")
    for i in range(3):
        subprocess.run(
            [
                crm,
                "employee",
                "add",
                "--name",
                f"Bench {i}",
                "--role",
                "employee",
                "--telegram-id",
                str(900_000 + i),
            ],
            env=env,
            check=True,
            capture_output=True,
        )


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<24} {rate:8.0f} leads/s   p50 {q[49] * 1000:6.1f} ms   p99 {q[98] * 1000:6.1f} ms"
    )
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        await bare_server(args.bare_server)
        return
    await recreate_database()
    env = {
        **os.environ,
        "DATABASE_URL": PG_URL,
        "FORMS_TOKEN": TOKEN,
        "TELEGRAM_BOT_TOKEN": "",
        "REDIS_URL": "",
    }
    seed_staff(env)
    product_port, bare_port = free_port(), free_port()
    crm = str(Path(sys.executable).parent / "crm")
    product = subprocess.Popen(
        [crm, "run", "--only", "web"],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        env={**env, "HTTP_PORT": str(product_port)},
    )
    bare = subprocess.Popen([sys.executable, __file__, "--bare-server", str(bare_port)], env=env)
    urls = {
        "bare aiohttp+asyncpg": f"http://127.0.0.1:{bare_port}/webhooks/forms/tilda?token={TOKEN}",
        "chatcrm (crm run)": f"http://127.0.0.1:{product_port}/webhooks/forms/tilda?token={TOKEN}",
    }
    try:
        for url in urls.values():
            await wait_up(url)
        results = {}
        for round_ in range(2):  # alternate, so neither side always runs on a warmer machine
            for seed, (name, url) in enumerate(urls.items(), start=1):
                await load(url, payloads(300, seed * 100 + round_), args.concurrency)  # warm-up
                bodies = payloads(args.requests // 2, seed * 10 + round_)
                elapsed, latencies = await load(url, bodies, args.concurrency)
                prev = results.get(name, (0.0, []))
                results[name] = (prev[0] + elapsed, prev[1] + latencies)
        print(
            f"{args.requests} form leads each at {args.concurrency} concurrent connections "
            f"(PostgreSQL, one process each)"
        )
        rates = {name: report(name, *result) for name, result in results.items()}
        bare_rate, product_rate = rates.values()
        print(f"{'ratio product/bare':<24} {product_rate / bare_rate:8.2f}")
    finally:
        for process in (product, bare):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
