"""Clients writing on WhatsApp: inbound messages through the webhook to the employee's Telegram.

    .venv/bin/python -m bench.whatsapp [--messages 5000] [--clients 500] [--employees 100]
        [--batch 10] [--concurrency 8] [--rate 0] [--global-rate 30] [--chat-interval 1]

Needs PostgreSQL (BENCH_PG_URL's server): the bench creates its own database and drops it.
Starts the fake Bot API (its own process) and `crm run` (web, bot, outbox worker, one
process) pointed at it, adds the employees (on duty, no schedules), then posts `--messages`
messages from `--clients` WhatsApp numbers as Meta does: signed notifications of `--batch`
messages each, `--concurrency` at once, at most `--rate` messages/s (0: as fast as they are
taken). A client's first message opens a lead (its card carries the text); every later one is
relayed. Each message's text carries its number, so its arrival at the fake Bot API is found
(a first message whose card came in a digest of new leads is found by the client's name).

Prints the webhook's intake (messages/s, p50/p99 of the notification answers) and the time
from posting a message to its card or relay arriving at the fake Bot API (p50, p99, max),
with Telegram's limits as given (`--global-rate` messages/s overall, `--chat-interval` s per
chat). The baseline, in this process, is a bare aiohttp endpoint doing the least the same job
needs: check the signature, parse, insert each message once (asyncpg, ON CONFLICT DO NOTHING),
and send it to the same chat with a bare aiogram Bot paced by the same rate limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bot import create_database, drop_database, wait_for_fake  # noqa: E402
from bench.calls import RemoteFake  # noqa: E402
from bench.ingest import free_port, wait_up  # noqa: E402

SECRET = "bench-app-secret"
TELEGRAM_IDS = 600_000_000
_NUMBER = re.compile(r"\bm(\d+)\b")
# A client's first message opens a lead; when several new leads wait for one chat, their cards
# come as one digest, a line per lead with the client's name (and not the message): the first
# message of client c is message c.
_DIGEST_LINE = re.compile(r"Клиент (\d+) ·")


@dataclass(frozen=True)
class Figures:
    took: float  # seconds to post every notification
    answers: list[float]  # ms per notification answer
    latency: list[float]  # s from posting a message to its arrival in Telegram
    delivered: int
    twice: int

    def line(self, name: str, messages: int) -> str:
        a50, a99 = quantiles(self.answers)
        l50, l99 = quantiles(self.latency)
        worst = max(self.latency, default=0.0)
        return (
            f"{name:<20} {messages / self.took:7.0f} msg/s in   answers p50 {a50:6.1f} ms "
            f"p99 {a99:6.1f} ms   to Telegram p50 {l50:6.2f} s p99 {l99:6.2f} s "
            f"max {worst:6.2f} s   delivered {self.delivered}/{messages}, twice {self.twice}"
        )


def quantiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def notifications(messages: int, clients: int, batch: int) -> list[tuple[list[int], bytes]]:
    """Meta's notifications: message n comes from client n % clients; `batch` to a body, the
    clients' first messages in bodies of their own."""
    t0 = int(time.time())
    bodies = []
    firsts = list(range(min(clients, messages)))  # message n < clients is client n's first
    later = list(range(len(firsts), messages))
    chunks = [part[i : i + batch] for part in (firsts, later) for i in range(0, len(part), batch)]
    for numbers in chunks:
        items = [
            {
                "from": f"7912{n % clients:07d}",
                "id": f"wamid.bench{n:08d}",
                "timestamp": str(t0),
                "type": "text",
                "text": {"body": f"m{n} Здравствуйте, сколько стоит окно?"},
            }
            for n in numbers
        ]
        contacts = [
            {"profile": {"name": f"Клиент {n % clients}"}, "wa_id": f"7912{n % clients:07d}"}
            for n in numbers
        ]
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1"},
            "contacts": contacts,
            "messages": items,
        }
        body = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
        bodies.append((numbers, json.dumps(body).encode()))
    return bodies


async def post_all(
    url: str,
    bodies: list[tuple[list[int], bytes]],
    args: argparse.Namespace,
) -> tuple[float, list[float], dict[int, float]]:
    """Post every notification; (seconds, answer ms each, when each message was posted).

    The notifications holding clients' first messages are all answered before the others go,
    so the message that opens each client's lead is the one the bench expects (a digest line
    names the client, not the message)."""
    posted: dict[int, float] = {}
    answers: list[float] = []
    start = time.monotonic()
    firsts = [b for b in bodies if b[0][0] < args.clients]
    rest = [b for b in bodies if b[0][0] >= args.clients]
    per_message = 1 / args.rate if args.rate else 0.0

    async def worker(http: aiohttp.ClientSession, queue: list[tuple[list[int], bytes]]) -> None:
        while queue:
            numbers, body = queue.pop(0)
            if per_message:  # paced: message n is posted no sooner than n / rate
                await asyncio.sleep(max(start + numbers[0] * per_message - time.monotonic(), 0))
            sent = time.monotonic()
            for n in numbers:
                posted[n] = sent
            async with http.post(url, data=body, headers=signed(body)) as response:
                await response.read()
                assert response.status == 200, response.status
            answers.append((time.monotonic() - sent) * 1000)

    async with aiohttp.ClientSession() as http:
        for part in (firsts, rest):
            await asyncio.gather(*(worker(http, part) for _ in range(args.concurrency)))
    return time.monotonic() - start, answers, posted


async def arrivals(fake: RemoteFake, expected: int, timeout: float) -> tuple[dict[int, float], int]:
    """Wait until every message arrived in Telegram; (first arrival per message, repeats)."""
    deadline = time.monotonic() + timeout
    while True:
        calls = [c for c in await fake.calls("sendMessage") if c["status"] == 200]
        seen: dict[int, float] = {}
        twice = 0
        for call in calls:
            text = str(call["params"].get("text"))
            numbers = _NUMBER.findall(text) or ([] if "💬" in text else _DIGEST_LINE.findall(text))
            for number in numbers:
                n = int(number)
                if n in seen:
                    twice += 1
                else:
                    seen[n] = call["at"]
        if len(seen) >= expected or time.monotonic() > deadline:
            return seen, twice
        await asyncio.sleep(0.5)


async def seed(dsn: str, employees: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """INSERT INTO employees (name, role, telegram_id, is_active, on_shift, created_at,
                                      updated_at)
               SELECT 'Сотрудник ' || n, 'employee', $1 + n, true, true, now(), now()
               FROM generate_series(1, $2) AS n""",
            TELEGRAM_IDS,
            employees,
        )
    finally:
        await conn.close()


def figures(took: float, answers: list[float], posted: dict[int, float], seen, twice) -> Figures:
    latency = [max(seen[n] - posted[n], 0.0) for n in posted if n in seen]
    return Figures(took, answers, latency, len(seen), twice)


async def product(args: argparse.Namespace, bodies: list[tuple[list[int], bytes]]) -> Figures:
    name, dsn = await create_database("chatcrm_bench_whatsapp")
    fake = RemoteFake()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "HTTP_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.base_url,
        "TELEGRAM_GLOBAL_RATE": str(args.global_rate),
        "TELEGRAM_CHAT_INTERVAL": str(args.chat_interval),
        "WHATSAPP_APP_SECRET": SECRET,
        "WHATSAPP_VERIFY_TOKEN": "bench",
        "REDIS_URL": "",
        "PUBLIC_URL": "",
    }
    crm = str(Path(sys.executable).parent / "crm")
    process = subprocess.Popen(
        [crm, "run"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        await wait_for_fake(fake.base_url, fake.token)
        await wait_up(f"http://127.0.0.1:{port}", timeout=60)
        await seed(dsn, args.employees)
        url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
        took, answers, posted = await post_all(url, bodies, args)
        seen, twice = await arrivals(fake, args.messages, args.drain_timeout)
        await asyncio.sleep(1)  # anything sent twice arrives by now
        seen, twice = await arrivals(fake, args.messages, 0)
        return figures(took, answers, posted, seen, twice)
    finally:
        process.terminate()
        process.wait(timeout=20)
        fake.stop()
        await drop_database(name)


async def baseline(args: argparse.Namespace, bodies: list[tuple[list[int], bytes]]) -> Figures:
    """Signature, parse, insert once, send with the rate limiter: no CRM, same process."""
    from bot.telegram.factory import make_bot
    from scheduler.rate_limit import MemoryRateLimiter

    name, dsn = await create_database("chatcrm_bench_whatsapp_bare")
    fake = RemoteFake()
    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=4)
    await pool.execute(
        "CREATE TABLE bare_messages (id bigserial PRIMARY KEY, wamid text UNIQUE, sender text,"
        " body text)"
    )
    bot = make_bot(fake.token, fake.base_url)
    limiter = MemoryRateLimiter(args.global_rate, args.chat_interval)
    sends: set[asyncio.Task[None]] = set()

    async def relay(sender: str, text: str) -> None:
        chat = TELEGRAM_IDS + 1 + int(sender) % args.employees
        while True:
            await limiter.acquire(str(chat))
            try:
                await bot.send_message(chat_id=chat, text=text)
                return
            except Exception:  # refused or unreachable: again after a pause
                await asyncio.sleep(1)

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        header = request.headers.get("X-Hub-Signature-256", "")
        if not hmac.compare_digest(header.removeprefix("sha256="), expected):
            return web.json_response({"error": "bad_signature"}, status=401)
        data = json.loads(raw)
        for entry in data["entry"]:
            for change in entry["changes"]:
                for m in change["value"].get("messages", []):
                    new = await pool.fetchval(
                        "INSERT INTO bare_messages (wamid, sender, body) VALUES ($1, $2, $3)"
                        " ON CONFLICT DO NOTHING RETURNING id",
                        m["id"],
                        m["from"],
                        m["text"]["body"],
                    )
                    if new is not None:
                        task = asyncio.create_task(relay(m["from"], m["text"]["body"]))
                        sends.add(task)
                        task.add_done_callback(sends.discard)
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=4 * 1024**2)
    app.router.add_post("/webhooks/whatsapp", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await wait_for_fake(fake.base_url, fake.token)
        url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
        took, answers, posted = await post_all(url, bodies, args)
        seen, twice = await arrivals(fake, args.messages, args.drain_timeout)
        return figures(took, answers, posted, seen, twice)
    finally:
        for task in list(sends):
            task.cancel()
        await runner.cleanup()
        await bot.session.close()
        await pool.close()
        fake.stop()
        await drop_database(name)


async def run(args: argparse.Namespace) -> tuple[Figures, Figures | None]:
    bodies = notifications(args.messages, args.clients, args.batch)
    pace = f"at most {args.rate:g} msg/s" if args.rate else "as fast as taken"
    print(
        f"{args.messages} WhatsApp messages from {args.clients} clients, {args.batch} a "
        f"notification, {args.concurrency} at once, {pace}; {args.employees} employees; "
        f"Telegram limits {args.global_rate:g} msg/s overall, {args.chat_interval:g} s per chat"
    )
    ours = await product(args, bodies)
    print(ours.line("chatcrm", args.messages))
    bare = None
    if args.baseline:
        bare = await baseline(args, bodies)
        print(bare.line("bare aiohttp+aiogram", args.messages))
        p99_ours, p99_bare = quantiles(ours.latency)[1], quantiles(bare.latency)[1]
        print(
            f"ratio (chatcrm / bare): intake {bare.took / ours.took:.2f}, "
            f"p99 to Telegram {p99_ours / max(p99_bare, 1e-6):.2f}"
        )
    return ours, bare


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--employees", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--global-rate", type=float, default=30.0)
    parser.add_argument("--chat-interval", type=float, default=1.0)
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
