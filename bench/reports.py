"""Reports on PostgreSQL at size: 1,000,000 deals, 2,000,000 leads, 500,000 calls, 200
employees in 10 offices, a year of history.

    .venv/bin/python bench/reports.py [--deals 1000000] [--leads 2000000] [--calls 500000]
                                      [--repeat 5] [--no-seed] [--database-url URL]

Needs PostgreSQL (BENCH_REPORTS_PG_URL, default
postgresql://postgres@127.0.0.1:5432/chatcrm_bench_reports; recreated and migrated). Prints,
for each report (the manager's, sources, the funnel) and each period (the last day, month and
year) at office and company scope, the median of `--repeat` runs through services.reports,
beside the same numbers asked by hand-written SQL over asyncpg (one statement per report, no
ORM): what the database alone takes. The last year's months are rolled up first (the
roll_up_reports job's work, timed), and a busy day's changes to old deals and leads are timed
too. Then the time to count all 200 employees' digests (the 20 managers' and the rest), and to
write and send a Monday's digests and charts through the product's outbox pump to the fake Bot
API (tests/fakes/telegram_api, its own process, Telegram's limits). Target: each report
< 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import migrations  # noqa: E402
from bench import sa_url  # noqa: E402
from models.db import Database  # noqa: E402
from services import reports  # noqa: E402

PG_URL = os.environ.get(
    "BENCH_REPORTS_PG_URL", "postgresql://postgres@127.0.0.1:5432/chatcrm_bench_reports"
)
TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # the seed's history ends here
MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 10:00 in Moscow: digests with charts

SEED = """
insert into offices (name, created_at, updated_at)
  select 'Office ' || g, now(), now() from generate_series(1, 10) g;
insert into employees (name, role, office_id, telegram_id, is_active, on_shift, created_at,
                       updated_at)
  select 'E' || g, case when g <= 20 then 'manager' else 'employee' end, 1 + g % 10,
         900000 + g, true, true, now(), now() from generate_series(1, 200) g;
insert into clients (kind, name, owner_id, created_at, updated_at)
  select 'person', 'Client ' || g, 21 + g % 180, now(), now()
  from generate_series(1, {clients}) g;
insert into leads (client_id, status, source, utm_campaign, line_id, office_id, assignee_id,
                   extra, is_returning, phone_invalid, first_response_seconds,
                   first_response_work_seconds, created_at, updated_at)
  select 1 + g % {clients},
         (array['new','target','target','non_target','spam'])[1 + g % 5],
         (array['form:site','whatsapp','telegram','call','form:tilda'])[1 + g % 5],
         'campaign-' || (g % 20), null, 1 + (21 + g % 180) % 10, 21 + g % 180, '{{}}',
         false, false, case when g % 4 = 0 then null else g % 7200 end,
         case when g % 4 = 0 then null else g % 3600 end,
         timestamptz '{now}' - (g * interval '1 second') * (31536000.0 / {leads}), now()
  from generate_series(1, {leads}) g;
insert into calls (provider, external_id, direction, employee_id, client_number, status,
                   phase, legs, talk_seconds, started_at, created_at, updated_at)
  select 'generic', 'c' || g, case when g % 3 = 0 then 'out' else 'in' end, 21 + g % 180,
         '+7912' || lpad((g % 100000)::text, 7, '0'),
         case when g % 7 = 0 then 'missed' else 'answered' end, 'ended', '{{}}', 60,
         timestamptz '{now}' - (g * interval '1 second') * (31536000.0 / {calls}), now(), now()
  from generate_series(1, {calls}) g;
insert into deals (client_id, lead_id, pipeline_id, stage_id, title, amount, cost, currency,
                   owner_id, office_id, status, closed_at, lost_reason, created_at, updated_at)
  select 1 + g % {clients}, case when g <= {leads} and g % 2 = 0 then g end, 1,
         case when g % 10 < 3 then 6 when g % 10 = 3 then 7 else 2 + g % 3 end,
         'deal ' || g, 1000 + g % 100000, 500 + g % 50000, 'RUB', 21 + g % 180,
         1 + (21 + g % 180) % 10,
         case when g % 10 < 3 then 'won' when g % 10 = 3 then 'lost' else 'open' end,
         case when g % 10 <= 3 then timestamptz '{now}'
                                    - (g * interval '1 second') * (31536000.0 / {deals})
                                    + interval '3 days' end,
         case when g % 10 = 3 then 'price' end,
         timestamptz '{now}' - (g * interval '1 second') * (31536000.0 / {deals}), now()
  from generate_series(1, {deals}) g;
insert into deal_stage_changes (deal_id, from_stage_id, to_stage_id, by_id, at)
  select g, 2, 3, 21 + g % 180,
         timestamptz '{now}' - (g * interval '1 second') * (31536000.0 / {deals})
         + interval '1 day'
  from generate_series(1, {deals} / 5) g;
insert into sales_plans (employee_id, month, amount, created_at, updated_at)
  select g, date '2026-12-01', 5000000, now(), now() from generate_series(21, 200) g;
analyze;
"""

# The same numbers by hand, in one statement each ($1, $2: the period's bounds; $3: office).
BY_HAND = {
    "manager": """
        with l as (select assignee_id as who, count(*) as leads,
                          count(*) filter (where status = 'target') as target,
                          percentile_disc(0.5) within group (order by first_response_work_seconds)
                            as median
                   from leads where created_at >= $1 and created_at < $2
                     and ($3::bigint is null or office_id = $3) group by assignee_id),
             c as (select c.employee_id as who, count(*) filter (where direction = 'in') as i,
                          count(*) filter (where direction = 'out') as o,
                          count(*) filter (where status = 'missed') as m
                   from calls c join employees e on e.id = c.employee_id
                   where started_at >= $1 and started_at < $2
                     and ($3::bigint is null or e.office_id = $3) group by c.employee_id),
             d as (select owner_id as who,
                          count(*) filter (where created_at >= $1 and created_at < $2) as made,
                          sum(amount) filter (where status = 'won' and closed_at >= $1
                                              and closed_at < $2) as won
                   from deals where ((created_at >= $1 and created_at < $2)
                                     or (closed_at >= $1 and closed_at < $2))
                     and ($3::bigint is null or office_id = $3) group by owner_id)
        select * from l full join c using (who) full join d using (who)""",
    "sources": """
        select l.source, l.utm_campaign, count(distinct l.id),
               count(distinct d.id) filter (where d.status = 'won'), sum(d.amount)
        from leads l left join deals d on d.lead_id = l.id
        where l.created_at >= $1 and l.created_at < $2 and ($3::bigint is null
              or l.office_id = $3)
        group by l.source, l.utm_campaign""",
    "funnel": """
        select d.stage_id, count(*), avg(extract(epoch from (s.at - d.created_at)))
        from deals d left join deal_stage_changes s on s.deal_id = d.id
        where d.created_at >= $1 and d.created_at < $2 and ($3::bigint is null
              or d.office_id = $3)
        group by d.stage_id""",
}


async def seed(url: str, deals: int, leads: int, calls: int) -> None:
    admin_url, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(admin_url + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await asyncio.to_thread(migrations.upgrade, sa_url(url))
    conn = await asyncpg.connect(url)
    try:
        clients = max(deals // 5, 1000)
        await conn.execute(
            SEED.format(clients=clients, leads=leads, calls=calls, deals=deals, now=NOW.isoformat())
        )
    finally:
        await conn.close()


def periods() -> dict[str, reports.Period]:
    today = NOW.astimezone(TZ).date()
    return {
        "day": reports.Period(today - timedelta(days=1), today - timedelta(days=1), TZ),
        "month": reports.Period(today.replace(day=1), today, TZ),
        "year": reports.Period(today - timedelta(days=364), today, TZ),
    }


async def _median(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    took = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        await work()
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took[1:])  # the first run warms the caches


async def measure(url: str, repeat: int) -> dict[tuple[str, str, str], tuple[float, float]]:
    db = Database(sa_url(url))
    conn = await asyncpg.connect(url)
    found: dict[tuple[str, str, str], tuple[float, float]] = {}
    try:
        await conn.execute("delete from report_rollup_months; delete from report_rollups")
        started = time.perf_counter()
        async with db.unit_of_work() as session:
            built, _more = await reports.rollup.prepare(session, [TZ], NOW, at_most=100)
        took = time.perf_counter() - started
        print(f"rolled up the last year's {built} settled months (the job's work) in {took:.1f} s")
        print(f"{'report':8} {'period':6} {'scope':8} {'chatcrm':>10} {'by hand':>10}")
        for name in ("manager", "sources", "funnel"):
            for label, period in periods().items():
                for scope_name, scope in (
                    ("office", reports.Scope(None, 1)),
                    ("company", reports.Scope()),
                ):

                    async def ours(period=period, scope=scope, name=name) -> None:  # type: ignore[no-untyped-def]
                        async with db.unit_of_work() as session:
                            if name == "manager":
                                await reports.manager_report(session, period, scope, today=NOW)
                            elif name == "sources":
                                await reports.sources_report(session, period, scope, today=NOW)
                            else:
                                await reports.funnel(session, period, scope, today=NOW)

                    async def bare(period=period, scope=scope, name=name) -> None:  # type: ignore[no-untyped-def]
                        await conn.fetch(BY_HAND[name], period.start, period.end, scope.office_id)

                    product, hand = await _median(repeat, ours), await _median(repeat, bare)
                    found[(name, label, scope_name)] = (product, hand)
                    print(f"{name:8} {label:6} {scope_name:8} {product:8.1f} ms {hand:8.1f} ms")
        # a busy day: 1,000 open deals of the last two months are won, 1,000 leads change
        await conn.execute(
            "update deals set status = 'won', closed_at = $1 where id in (select id from deals"
            " where status = 'open' and created_at between $2 and $3 limit 1000)",
            NOW,
            NOW - timedelta(days=60),
            NOW - timedelta(days=3),
        )
        await conn.execute(
            "update leads set status = 'target' where id in (select id from leads"
            " where created_at between $1 and $2 limit 1000)",
            NOW - timedelta(days=60),
            NOW - timedelta(days=3),
        )
        for label in ("right after", "once more"):
            started = time.perf_counter()
            async with db.unit_of_work() as session:
                year = periods()["year"]
                await reports.manager_report(session, year, reports.Scope(), today=NOW)
            took = (time.perf_counter() - started) * 1000
            print(f"a company's year {label} a busy day changed old deals and leads: {took:.0f} ms")
        started = time.perf_counter()
        async with db.unit_of_work() as session:
            day = NOW.astimezone(TZ).date()
            for employee_id in range(1, 201):
                plan = await reports.digests.of(session, employee_id, day, _company())
                await reports.manager_report(session, plan.yesterday, plan.scope, today=NOW)
        digests = time.perf_counter() - started
        print(f"all 200 employees' digests counted in {digests:.1f} s")
    finally:
        await conn.close()
        await db.engine.dispose()
    await send_digests(url)
    return found


async def send_digests(url: str) -> None:
    """Monday morning: every employee's digest (and each manager's chart) written by the job's
    service and sent by the product's outbox pump, at Telegram's limits (30 messages a second,
    one a second per chat), to the fake Bot API in its own process."""
    import sqlalchemy as sa

    from app import Container
    from bench.bot import wait_for_fake
    from bench.calls import RemoteFake
    from config.settings import Settings
    from models import OutboxMessage

    fake = RemoteFake("--limits")
    try:
        await wait_for_fake(fake.base_url, fake.token)
        settings = Settings(
            _env_file=None,
            database_url=sa_url(url),
            telegram_bot_token=fake.token,  # type: ignore[call-arg]
            telegram_api_base=fake.base_url,
            redis_url=None,
        )
        container = Container.build(settings, clock=_Shifted(MONDAY))
        try:
            async with container.db.unit_of_work() as session:
                await session.execute(sa.delete(OutboxMessage))  # a run before wrote today's
            started = time.perf_counter()
            async with container.db.unit_of_work() as session:
                sent = await reports.digests.send_due(session, container.company)
            written = time.perf_counter() - started
            charts = 20  # the managers'
            container.make_pump().start()
            texts = await fake.wait_for("sendMessage", count=sent.written - charts, timeout=600)
            photos = await fake.wait_for("sendPhoto", count=charts, timeout=600)
            took = time.perf_counter() - started
        finally:
            await container.close()
    finally:
        fake.stop()
    floor = sent.written / settings.telegram_global_rate
    print(
        f"Monday's {len(texts)} digests and {len(photos)} charts written in {written:.1f} s, "
        f"sent in {took:.1f} s (Telegram's limit allows them in no less than {floor:.1f} s)"
    )


def _company():  # type: ignore[no-untyped-def]
    from services.clock import FrozenClock
    from services.context import Company

    return Company(timezone=TZ, clock=FrozenClock(NOW))


class _Shifted:
    """The wall clock moved to start at `start`: time passes (the pump's waits come due)."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    parser.add_argument("--database-url", default=PG_URL)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[tuple[str, str, str], tuple[float, float]]:
    if not args.no_seed:
        started = time.perf_counter()
        await seed(args.database_url, args.deals, args.leads, args.calls)
        print(
            f"seeded {args.deals} deals, {args.leads} leads, {args.calls} calls in "
            f"{time.perf_counter() - started:.0f} s"
        )
    else:  # the seeded database, brought up to the current schema (new indexes)
        await asyncio.to_thread(migrations.upgrade, sa_url(args.database_url))
    return await measure(args.database_url, args.repeat)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
