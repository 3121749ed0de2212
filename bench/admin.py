"""The admin web on PostgreSQL at size: 100,000 clients, 300,000 deals, 100,000 tasks, 200
employees in 10 offices.

    .venv/bin/python bench/admin.py [--deals 300000] [--clients 100000] [--repeat 40]
                                    [--no-seed]

Needs PostgreSQL (BENCH_ADMIN_PG_URL, default
postgresql://postgres@127.0.0.1:5432/chatcrm_bench_admin; recreated and migrated). Prints, for
each deal-list page (first and deep pages, each sort, filters, a text search, a manager's
office), p50 and p99 of `--repeat` requests through the product's web app (session, CSRF-less
GET, pydantic input, services.deals.lists, the Jinja template) beside the same page asked of a
bare aiohttp handler over asyncpg with hand-written SQL and an f-string table, in the same
process over the same loopback. Then a bulk reassign of 10,000 deals with their 10,000 open
tasks (count, apply, undo, each one unit of work) beside the two bare UPDATE statements, and
their delete (bench/admin_delete.py) beside bare DELETEs.
Targets: list pages p99 < 200 ms at any depth; the reassign < 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import migrations  # noqa: E402
from app import Container  # noqa: E402
from bench import admin_broadcast, admin_delete, admin_import, admin_reassign, sa_url  # noqa: E402
from bench.admin_reassign import LEAVER, MOVED  # noqa: E402
from config.settings import Settings  # noqa: E402
from models import Employee  # noqa: E402
from services import admins  # noqa: E402
from tests.admin_web.forms import sign_in  # noqa: E402
from webhooks.server import build_web_app  # noqa: E402

PG_URL = os.environ.get(
    "BENCH_ADMIN_PG_URL", "postgresql://postgres@127.0.0.1:5432/chatcrm_bench_admin"
)

SEED = """
insert into offices (name, created_at, updated_at)
  select 'Office ' || g, now(), now() from generate_series(1, 10) g;
insert into employees (name, role, office_id, telegram_id, is_active, on_shift, created_at,
                       updated_at)
  select 'E' || g, case when g <= 20 then 'manager' else 'employee' end, 1 + g % 10,
         900000 + g, true, true, now(), now() from generate_series(1, 200) g;
insert into clients (kind, name, search_text, owner_id, office_id, created_at, updated_at)
  select 'person', 'Клиент ' || g, 'клиент ' || g, 21 + g % 180, 1 + (21 + g % 180) % 10,
         now(), now()
  from generate_series(1, {clients}) g;
insert into deals (client_id, pipeline_id, stage_id, title, amount, currency, owner_id,
                   office_id, status, closed_at, created_at, updated_at)
  select 1 + g % {clients}, 1,
         case when g <= {moved} then 2 + g % 3
              when g % 10 < 3 then 6 when g % 10 = 3 then 7 else 2 + g % 3 end,
         'Сделка ' || g, case when g % 11 = 0 then null else 1000 + (g::bigint * 7919) % 100000 end,
         'RUB', o.owner, 1 + o.owner % 10,
         case when g <= {moved} then 'open'
              when g % 10 < 3 then 'won' when g % 10 = 3 then 'lost' else 'open' end,
         case when g > {moved} and g % 10 < 4 then now() - interval '1 day' end,
         now() - (g * interval '1 minute'), now()
  from generate_series(1, {deals}) g,
       lateral (select case when g <= {moved} then {leaver} else 23 + g % 178 end as owner) o;
insert into tasks (kind, title, status, assignee_id, client_id, deal_id, reminders_sent,
                   created_at, updated_at)
  select 'general', 'Перезвонить', 'open', d.owner_id, d.client_id, d.id, 0, now(), now()
  from deals d where d.id % 3 = 0 or d.id <= {moved};
analyze;
"""

# (name, query string, hand-written WHERE and ORDER BY for the bare handler)
PAGE_SQL = """
select d.id, d.created_at, d.title, d.client_id, c.name, s.name, d.status, d.amount,
       d.currency, e.name, o.name
from deals d join clients c on c.id = d.client_id join pipeline_stages s on s.id = d.stage_id
left join employees e on e.id = d.owner_id left join offices o on o.id = d.office_id
where {where} order by {order} limit 51
"""


CLIENT_SQL = """
select c.id, c.created_at, c.name, c.company, e.name, o.name, c.opted_out_at is not null
from clients c left join employees e on e.id = c.owner_id left join offices o on o.id = c.office_id
where c.merged_into_id is null and {where} order by {order} limit 51
"""


async def seed(url: str, clients: int, deals: int) -> None:
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
        await conn.execute(SEED.format(clients=clients, deals=deals, moved=MOVED, leaver=LEAVER))
    finally:
        await conn.close()


async def cases(conn: asyncpg.Connection) -> list[tuple[str, dict[str, str], str, str]]:
    """The pages measured: their query string, and the bare handler's WHERE and ORDER BY."""
    total = await conn.fetchval("select count(*) from deals")
    deep = int(total * 0.95)
    newest_deep = await conn.fetchval("select id from deals order by id desc offset $1", deep)
    amount_deep = await conn.fetchrow(
        "select coalesce(amount, 0) a, id from deals order by coalesce(amount, 0) desc, id desc"
        " offset $1 limit 1",
        deep,
    )
    office, stage = 3, 3
    in_office = await conn.fetchval(
        "select count(*) from deals d left join employees e on e.id = d.owner_id"
        " where coalesce(d.office_id, e.office_id) = $1 and d.stage_id = $2",
        office,
        stage,
    )
    filtered_deep = await conn.fetchval(
        "select d.id from deals d left join employees e on e.id = d.owner_id"
        " where coalesce(d.office_id, e.office_id) = $1 and d.stage_id = $2"
        " order by d.id desc offset $3 limit 1",
        office,
        stage,
        int(in_office * 0.95),
    )
    amount = f"{amount_deep['a']:.2f}"
    office_where = f"coalesce(d.office_id, e.office_id) = {office} and d.stage_id = {stage}"
    return [
        ("newest, page 1", {}, "true", "d.id desc"),
        (
            "newest, 95% deep",
            {"after": str(newest_deep)},
            f"d.id < {newest_deep}",
            "d.id desc",
        ),
        ("amount, page 1", {"sort": "amount"}, "true", "coalesce(d.amount, 0) desc, d.id desc"),
        (
            "amount, 95% deep",
            {"sort": "amount", "after": f"{amount}~{amount_deep['id']}"},
            f"(coalesce(d.amount, 0), d.id) < ({amount}, {amount_deep['id']})",
            "coalesce(d.amount, 0) desc, d.id desc",
        ),
        (
            "office+stage, 95% deep",
            {"office": str(office), "stage": str(stage), "after": str(filtered_deep)},
            f"{office_where} and d.id < {filtered_deep}",
            "d.id desc",
        ),
        (
            "owner, open",
            {"owner": "100", "status": "open"},
            "d.owner_id = 100 and d.status = 'open'",
            "d.id desc",
        ),
        (
            "text: a client's name",
            {"q": "Клиент 4242"},
            "d.id in (select id from deals where client_id in (select id from clients"
            " where search_text like '%клиент 4242%') union select id from deals"
            " where translate(lower(title), 'ё', 'е') like '%клиент 4242%')",
            "d.id desc",
        ),
    ]


async def bare_app(pool: asyncpg.Pool) -> web.Application:
    """The least a page needs: one hand-written select, rows into an f-string table."""

    async def page(request: web.Request) -> web.Response:
        where, order = request.query["where"], request.query["order"]
        sql = CLIENT_SQL if request.query.get("list") == "clients" else PAGE_SQL
        async with pool.acquire() as conn:
            rows = await conn.fetch(sql.format(where=where, order=order))
        cells = "".join(
            "<tr>" + "".join(f"<td>{value}</td>" for value in row.values()) + "</tr>"
            for row in rows
        )
        return web.Response(text=f"<table>{cells}</table>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/page", page)
    return app


async def timed(repeat: int, work: Any) -> list[float]:
    await work()  # warm: plans, the template cache
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        runs.append((time.perf_counter() - started) * 1000)
    return runs


def p99(runs: list[float]) -> float:
    ordered = sorted(runs)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def pages(url: str, repeat: int, *, freeze: bool) -> None:
    settings = Settings(_env_file=None, database_url=sa_url(url))  # type: ignore[call-arg]
    container = Container.build(settings)
    async with container.db.unit_of_work() as s:
        now = container.company.clock.now()
        if await s.scalar(sa.select(Employee.id).where(Employee.login == "bench")) is None:
            await admins.create_admin(s, login="bench", password="bench horse", now=now)
            await admins.give_login(
                s, employee_id=3, login="manager", password="bench horse", now=now
            )
    ours = TestClient(TestServer(build_web_app(container)))
    manager = TestClient(TestServer(build_web_app(container)))
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    bare = TestClient(TestServer(await bare_app(pool)))
    for client in (ours, manager, bare):
        await client.start_server()
    try:
        assert (await sign_in(ours, "bench", "bench horse")).status == 302
        assert (await sign_in(manager, "manager", "bench horse")).status == 302
        if freeze:  # as `crm run` does once everything is built (cli/run.py)
            gc.collect()
            gc.freeze()
        conn = await asyncpg.connect(url)
        try:
            measured = await cases(conn)
        finally:
            await conn.close()
        print(f"{'deal list page':<26}{'ours p50':>10}{'p99':>9}{'bare p50':>10}{'p99':>9}  rows")
        for name, query, where, order in measured:
            await _row(name, ours, query, bare, where, order, repeat)
        await _row(
            "manager's office, page 1",
            manager,
            {},
            bare,
            "coalesce(d.office_id, e.office_id) = 3",
            "d.id desc",
            repeat,
        )
        conn = await asyncpg.connect(url)
        try:
            clients_deep = await conn.fetchrow(
                "select coalesce(search_text, '') k, id from clients"
                " order by coalesce(search_text, ''), id offset $1 limit 1",
                int(await conn.fetchval("select count(*) from clients") * 0.95),
            )
        finally:
            await conn.close()
        key, key_id = clients_deep["k"], clients_deep["id"]
        print(f"{'client list page':<26}")
        for name, query, where, order in (
            ("newest, page 1", {}, "true", "c.id desc"),
            (
                "by name, 95% deep",
                {"sort": "name", "after": f"{key}~{key_id}"},
                f"(coalesce(c.search_text, ''), c.id) > ('{key}', {key_id})",
                "coalesce(c.search_text, ''), c.id",
            ),
            ("text", {"q": "Клиент 4242"}, "c.search_text like '%клиент 4242%'", "c.id desc"),
        ):
            await _row(name, ours, query, bare, where, order, repeat, path="/admin/clients")
    finally:
        for client in (ours, manager, bare):
            await client.close()
        await pool.close()
        await container.close()


async def _row(
    name: str,
    ours: TestClient,
    query: dict[str, str],
    bare: TestClient,
    where: str,
    order: str,
    repeat: int,
    *,
    path: str = "/admin/deals",
) -> None:
    shown: list[int] = []

    async def product() -> None:
        response = await ours.get(path, params=query)
        text = await response.text()
        assert response.status == 200, (response.status, text[:300])
        shown.append(text.count("<tr data-"))

    async def baseline() -> None:
        which = "clients" if path == "/admin/clients" else "deals"
        response = await bare.get("/page", params={"where": where, "order": order, "list": which})
        assert response.status == 200, await response.text()

    a = await timed(repeat, product)
    b = await timed(repeat, baseline)

    print(
        f"{name:<26}{statistics.median(a):>8.1f}ms{p99(a):>7.1f}ms"
        f"{statistics.median(b):>8.1f}ms{p99(b):>7.1f}ms  {shown[-1]}",
        flush=True,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=300_000)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave start-up objects to the collector"
    )
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--broadcast-clients", type=int, default=10_000)
    parser.add_argument("--wa-rate", type=float, default=80.0, help="the fake WhatsApp's limit")
    parser.add_argument("--leads-per-s", type=float, default=5.0, help="during the broadcast")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    if not args.no_seed:
        started = time.perf_counter()
        await seed(args.database_url, args.clients, args.deals)
        print(
            f"seeded {args.clients} clients, {args.deals} deals in"
            f" {time.perf_counter() - started:.1f} s"
        )
    await pages(args.database_url, args.repeat, freeze=not args.no_freeze)
    await admin_reassign.reassign_bench(args.database_url)
    await admin_delete.delete_bench(args.database_url)
    await admin_import.import_bench(args.database_url, args.import_rows)
    await admin_broadcast.broadcast_bench(
        args.database_url, args.broadcast_clients, args.wa_rate, args.leads_per_s
    )


if __name__ == "__main__":
    asyncio.run(run(parse_args()))
