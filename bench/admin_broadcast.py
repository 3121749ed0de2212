"""The broadcast part of bench/admin.py: 10,000 clients sent a WhatsApp template at the fake
provider's limit while new leads keep coming, on the bench's database.

    .venv/bin/python -m bench.admin_broadcast [--clients 10000] [--wa-rate 80] [--leads-per-s 5]

Needs PostgreSQL with the bench's data (bench/admin.py seeds it: its 200 on-duty employees get
the cards). Adds `--clients` clients known by phone only, tagged for the bench; starts the
product's outbox pump against the fake Graph API (refusing anything over `--wa-rate` messages
a second, Meta's default tier is 80) and the fake Bot API (Telegram's limits: 30 a second, one
a second per chat), both in this process. Prints
- the start: the segment counted, then the audience frozen and every message written;
- the broadcast's run: its duration beside the bare minimum at the provider's limit
  (clients / rate), and how many sends the provider refused (none, if the lane keeps its rate);
- new leads' cards (a lead written every 1/`--leads-per-s` s, the time from its commit to its
  card at the fake Bot API): p50 / p99 before the broadcast and while it runs.
Target: cards p99 < 1 s while the broadcast runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import asyncpg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import Container  # noqa: E402
from bench import sa_url  # noqa: E402
from config.settings import Settings  # noqa: E402
from models import Channel, Employee  # noqa: E402
from services import broadcasts, leads  # noqa: E402
from services.actors import Actor  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.whatsapp_api import FakeWhatsApp  # noqa: E402

TAG = "bench-broadcast"
TEMPLATE = "bench_offer"


async def add_clients(url: str, count: int) -> None:
    """`count` clients with a phone each (never written to on WhatsApp), tagged TAG."""
    conn = await asyncpg.connect(url)
    try:
        first = int(await conn.fetchval("select coalesce(max(id), 0) + 1 from clients"))
        last = first + count - 1
        await conn.execute(
            f"""
            insert into clients (id, kind, name, search_text, created_at, updated_at)
              select g, 'person', 'Гость ' || g, 'гость ' || g, now(), now()
              from generate_series({first}, {last}) g;
            select setval(pg_get_serial_sequence('clients', 'id'), {last});
            insert into channel_identities (client_id, channel, address, created_at, updated_at)
              select g, 'phone', '+7999' || lpad(g::text, 7, '0'), now(), now()
              from generate_series({first}, {last}) g;
            insert into client_tags (client_id, tag)
              select g, '{TAG}' from generate_series({first}, {last}) g;
            analyze clients; analyze channel_identities; analyze client_tags;
            """
        )
    finally:
        await conn.close()


class Cards:
    """New leads written at a steady pace; the time from each commit to its card."""

    def __init__(self, container: Container, fake_tg: FakeTelegram) -> None:
        self.container, self.fake_tg = container, fake_tg
        self.written: dict[str, float] = {}
        self._n = 0

    async def write(self, per_second: float, until: asyncio.Event) -> None:
        while not until.is_set():
            self._n += 1
            name = f"Лид{self._n:05d}"
            async with self.container.db.unit_of_work() as s:
                await leads.register_incoming(
                    s,
                    leads.LeadIn(source="form:bench", name=name, phone=f"+7998{self._n:07d}"),
                    company=self.container.company,
                )
            self.written[name] = time.monotonic()
            try:
                await asyncio.wait_for(until.wait(), 1 / per_second)
            except TimeoutError:
                pass

    async def latencies(self, timeout: float = 15.0) -> list[float]:
        """Seconds from each lead's commit to the first message naming it (waits for all)."""
        deadline = time.monotonic() + timeout
        while True:
            arrived: dict[str, float] = {}
            for call in self.fake_tg.calls("sendMessage"):
                if call.status != 200:
                    continue
                text = str(call.params.get("text", ""))
                for name in self.written:
                    if name not in arrived and name in text:
                        arrived[name] = call.at
            if len(arrived) == len(self.written) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        missing = len(self.written) - len(arrived)
        if missing:
            print(f"  {missing} card(s) did not arrive within {timeout:.0f} s")
        return [arrived[n] - self.written[n] for n in arrived]

    def reset(self) -> None:
        self.written.clear()


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def broadcast_bench(url: str, clients: int, wa_rate: float, leads_per_s: float) -> None:
    await add_clients(url, clients)
    fake_tg = FakeTelegram(token="7000000001:AAE-bench", limits=True)
    fake_wa = FakeWhatsApp(rate=wa_rate)
    await fake_tg.start()
    await fake_wa.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sa_url(url),
        telegram_bot_token=fake_tg.token,
        telegram_api_base=fake_tg.base_url,
        whatsapp_token=fake_wa.token,
        whatsapp_phone_number_id=fake_wa.phone_number_id,
        whatsapp_app_secret=fake_wa.app_secret,
        whatsapp_api_base=fake_wa.base_url,
        whatsapp_templates=TEMPLATE,
        whatsapp_rate=wa_rate,
    )
    container = Container.build(settings)
    pump = container.make_pump(poll_interval=0.2)
    container.wire_outbox_nudges()
    pump.start()
    cards = Cards(container, fake_tg)
    try:
        async with container.db.unit_of_work() as s:
            admin = await s.scalar(sa.select(Employee).where(Employee.login == "bench"))
            assert admin is not None
            by = Actor.of(admin)
        # Cards with nothing else going on.
        quiet = asyncio.Event()
        writer = asyncio.create_task(cards.write(leads_per_s, quiet))
        await asyncio.sleep(max(4.0, 20 / leads_per_s))
        quiet.set()
        await writer
        before = await cards.latencies()
        cards.reset()

        segment = broadcasts.Segment(Channel.WHATSAPP, tags=(TAG,))
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            sizes = await broadcasts.size(
                s, segment, has_template=True, now=container.company.clock.now()
            )
        counted = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            broadcast_id = await broadcasts.start(
                s,
                broadcasts.Draft(segment, "Весной скидка 20%", TEMPLATE),
                by=by,
                company=container.company,
            )
        frozen = time.perf_counter() - started
        sending = time.monotonic()
        print(
            f"broadcast start: {sizes['send']} clients counted in {counted * 1000:.0f} ms;"
            f" audience frozen and {sizes['send']} messages written in {frozen:.2f} s"
        )
        done = asyncio.Event()
        writer = asyncio.create_task(cards.write(leads_per_s, done))
        while True:
            async with container.db.unit_of_work() as s:
                view = await broadcasts.view(s, broadcast_id, by=by)
            if view.progress.done:
                break
            await asyncio.sleep(0.5)
        took = time.monotonic() - sending
        done.set()
        await writer
        during = await cards.latencies()
        bare = clients / wa_rate
        print(
            f"broadcast of {clients} at {wa_rate:.0f}/s: {took:.1f} s"
            f" ({clients / took:.0f}/s; bare minimum at the limit {bare:.1f} s,"
            f" x{took / bare:.2f}); sent {view.progress.sent}, failed {view.progress.failed};"
            f" refused by the provider: {len(fake_wa.refused)}"
        )
        print(
            f"cards: before p50 {_p(before, 50) * 1000:.0f} ms, p99 {_p(before, 99) * 1000:.0f} ms"
            f" ({len(before)}); during p50 {_p(during, 50) * 1000:.0f} ms,"
            f" p99 {_p(during, 99) * 1000:.0f} ms ({len(during)})"
        )
    finally:
        await pump.stop()
        await container.close()
        await fake_wa.stop()
        await fake_tg.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from bench.admin import PG_URL

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--wa-rate", type=float, default=80.0)
    parser.add_argument("--leads-per-s", type=float, default=5.0)
    parser.add_argument("--database-url", default=PG_URL)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    asyncio.run(broadcast_bench(args.database_url, args.clients, args.wa_rate, args.leads_per_s))
