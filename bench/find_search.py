"""How long /find takes with 100,000 clients on PostgreSQL (target: p99 < 100 ms).

    python -m bench.find_search [--url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Builds a throw-away database (200 employees in 5 offices, 100,000 clients with a phone each,
a third with an e-mail, a lead per client and a deal per fifth), then times
`services.clients.search.search` for each kind of key as an employee, a manager and an admin,
and prints p50/p99 per kind beside the whole mix.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

import migrations
from models import Role
from models.db import Database
from services.actors import Actor
from services.clients.matching import search_text_of
from services.clients.search import search

CLIENTS = 100_000
EMPLOYEES = 200
OFFICES = 5
FIRST = ["Иван", "Пётр", "Анна", "Ольга", "Сергей", "Мария", "Дмитрий", "Елена", "Алексей"]
LAST = ["Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов"]
COMPANY = ["Ромашка", "Вектор", "Альфа", "Север", "Гранит", "Лотос", "Меридиан", "Орион"]


async def build(admin_url: str, name: str) -> str:
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    await migrations.upgrade_async(url)
    rnd = random.Random(13)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO offices (name) SELECT 'Офис ' || g FROM generate_series(1, :n) g"),
            {"n": OFFICES},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO employees (name, role, office_id, telegram_id) "
                "SELECT 'Сотрудник ' || g, CASE WHEN g <= :offices THEN 'manager' ELSE "
                "'employee' END, 1 + g % :offices, 500000 + g FROM generate_series(1, :n) g"
            ),
            {"n": EMPLOYEES, "offices": OFFICES},
        )
        rows = []
        for i in range(1, CLIENTS + 1):
            person = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {i}"
            company = f"ООО {rnd.choice(COMPANY)} {i % 5000}" if i % 3 == 0 else None
            text = search_text_of(person, company)
            rows.append(
                {"name": person, "company": company, "st": text, "owner": 1 + i % EMPLOYEES}
            )
        await conn.execute(
            sa.text(
                "INSERT INTO clients (kind, name, company, search_text, owner_id) "
                "VALUES ('person', :name, :company, :st, :owner)"
            ),
            rows,
        )
        await conn.execute(
            sa.text(
                "INSERT INTO channel_identities (client_id, channel, address) "
                "SELECT id, 'phone', '+7912' || lpad(id::text, 7, '0') FROM clients"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO channel_identities (client_id, channel, address) "
                "SELECT id, 'email', 'c' || id || '@example.com' FROM clients WHERE id % 3 = 0"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO leads (client_id, status, source, extra, assignee_id, office_id) "
                "SELECT id, 'target', 'form:site', '{}', owner_id, 1 + owner_id % :offices "
                "FROM clients",
            ),
            {"offices": OFFICES},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO deals (client_id, pipeline_id, stage_id, title, currency, status, "
                "owner_id) SELECT c.id, s.pipeline_id, s.id, 'Сделка', 'RUB', 'open', c.owner_id "
                "FROM clients c, (SELECT id, pipeline_id FROM pipeline_stages ORDER BY position "
                "LIMIT 1) s WHERE c.id % 5 = 0"
            )
        )
        await conn.execute(sa.text("ANALYZE"))
    await engine.dispose()
    return url


QUERIES = {
    "phone": ["+7 912 000-12-34", "89120054321", "8 (912) 009 99 99"],
    "last digits": ["0012345", "54321", "99998"],
    "e-mail": ["c300@example.com", "C99999@EXAMPLE.COM"],
    "one word": ["петров", "ромашка", "ольга", "ив"],
    "two words": ["иван петров", "ооо вектор", "анна 777"],
    "no match": ["zzzzqqq", "несуществующий"],
}


async def measure(url: str, rounds: int) -> None:
    db = Database(url)
    people = {
        "employee": Actor(100, Role.EMPLOYEE, 1 + 100 % OFFICES, "e"),
        "manager": Actor(2, Role.MANAGER, 1 + 2 % OFFICES, "m"),
        "admin": Actor(0, Role.ADMIN, None, "a"),
    }
    everything: list[float] = []
    print(f"{'kind':<12} {'who':<9} {'p50 ms':>7} {'p99 ms':>7}")
    for kind, texts in QUERIES.items():
        for who, actor in people.items():
            times = []
            for _ in range(rounds):
                for text in texts:
                    async with db.unit_of_work() as session:
                        started = time.perf_counter()
                        await search(session, text, by=actor, limit=10)
                        times.append((time.perf_counter() - started) * 1000)
            everything += times
            print(f"{kind:<12} {who:<9} {statistics.median(times):7.1f} {p99(times):7.1f}")
    print(f"{'all':<22} {statistics.median(everything):7.1f} {p99(everything):7.1f}")
    await db.dispose()


def p99(times: list[float]) -> float:
    return sorted(times)[max(0, int(len(times) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db", default="chatcrm_bench_find")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="skip building the database")
    args = parser.parse_args()

    async def run() -> None:
        url = args.url.rsplit("/", 1)[0] + f"/{args.db}"
        if not args.reuse:
            url = await build(args.url, args.db)
        await measure(url, args.rounds)

    asyncio.run(run())


if __name__ == "__main__":
    main()
