"""The staff bot bench's data: a fresh PostgreSQL database filled fast, through bulk paths.

Employees, offices, clients, contact persons, identities and tags are made in Python and sent
with COPY (`copy_records_to_table`); timeline events are made by PostgreSQL itself
(bench/bot_events.py). The schema comes from the project's migrations, so every index is the
real one; the event tables' secondary indexes are dropped for the load and built once after.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from bench import bot_events
from bench.bot_events import PHONE_MULTIPLIER
from services.clients.matching import search_text_of

TELEGRAM_BASE = 910_000_000
OFFICES = (
    ("Москва", None),
    ("Санкт-Петербург", None),
    ("Казань", None),
    ("Новосибирск", "Asia/Novosibirsk"),
)
FIRST = (
    "Иван Пётр Сергей Алексей Дмитрий Андрей Михаил Николай Олег Артём Юрий Максим Роман "
    "Егор Фёдор Анна Мария Елена Ольга Наталья Татьяна Ирина Светлана Юлия Алёна Дарья "
    "Ксения Полина Софья Екатерина"
).split()
LAST = (
    "Иванов Петров Сидоров Смирнов Кузнецов Попов Васильев Соколов Михайлов Новиков Фёдоров "
    "Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов "
    "Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов "
    "Воробьёв Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин "
    "Максимов Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков "
    "Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов"
).split()
FEMININE = frozenset(
    "Анна Мария Елена Ольга Наталья Татьяна Ирина Светлана Юлия Алёна Дарья Ксения Полина "
    "Софья Екатерина".split()
)
COMPANY_WORDS = (
    "Альфа Вектор Гранит Дельта Еврострой Зенит Импульс Квант Лидер Меридиан Нова Омега "
    "Прогресс Ресурс Сигма Техносфера Уралсталь Феникс Хронос Цитадель Эталон Юпитер "
    "Ярмарка Байкал Волга Кристалл Монолит Полюс Сфера Триумф Север Горизонт Профит Стандарт "
    "Капитал Агро Логистик Инвест Телеком Девелопмент"
).split()
COMPANY_FORMS = ("ООО", "АО", "ИП", "ПАО")
EVENT_TABLES = ("leads", "calls", "deals", "deal_stage_changes", "tasks", "notes")
# The event tables' secondary indexes (not those behind a primary key or unique constraint).
INDEXES = """
    SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    WHERE t.relname = ANY($1::text[]) AND NOT x.indisprimary AND NOT x.indisunique
"""


@dataclass(frozen=True)
class Sizes:
    employees: int = 200
    clients: int = 100_000
    events: int = 1_000_000


@dataclass
class Employee:
    id: int
    role: str
    office_id: int | None
    telegram_id: int
    name: str


@dataclass
class Client:
    id: int
    last: str
    first: str
    company: str | None
    owner_id: int | None
    office_id: int | None
    phone: str  # E.164


@dataclass
class Data:
    """What the workload needs to know about the generated database."""

    employees: list[Employee]
    clients: list[Client]
    heavy: list[int]  # client ids with the most events (skew ranks below N/100)
    new_leads: dict[int, list[int]] = field(default_factory=dict)  # assignee → new lead ids
    leads: dict[int, list[int]] = field(default_factory=dict)  # assignee → some lead ids
    open_deals: dict[int, list[tuple[int, int]]] = field(
        default_factory=dict
    )  # owner → (deal, next stage id)
    deals: dict[int, list[int]] = field(default_factory=dict)  # owner → some deal ids
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def phone_of(client_id: int) -> str:
    return f"+79{client_id * PHONE_MULTIPLIER % 10**9:09d}"


def _employees(count: int, offices: int, rng: random.Random) -> list[Employee]:
    """Two admins, two managers per office, support, the rest sales employees."""
    found = []
    for i in range(1, count + 1):
        if i <= 2:
            role, office = "admin", None
        elif i <= 2 + 2 * offices:
            role, office = "manager", (i - 3) // 2 + 1
        elif i <= 4 + 2 * offices:
            role, office = "support", None
        else:
            role, office = "employee", (i % offices) + 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}{'а' if first in FEMININE else ''}"
        found.append(Employee(i, role, office, TELEGRAM_BASE + i, name))
    return found


def _clients(
    count: int, sellers: Sequence[Employee], offices: int, rng: random.Random
) -> list[Client]:
    found = []
    for i in range(1, count + 1):
        first = rng.choice(FIRST)
        last = rng.choice(LAST) + ("а" if first in FEMININE else "")
        company = None
        if rng.random() < 0.4:
            company = f"{rng.choice(COMPANY_FORMS)} «{rng.choice(COMPANY_WORDS)}"
            company += f" {rng.choice(COMPANY_WORDS)}»" if rng.random() < 0.5 else "»"
        if rng.random() < 0.05:  # nobody's yet: the office's pool
            owner, office = None, rng.randrange(offices) + 1
        else:
            seller = rng.choice(sellers)
            owner, office = seller.id, seller.office_id
        found.append(Client(i, last, first, company, owner, office, phone_of(i)))
    return found


async def build(dsn: str, sizes: Sizes, *, seed: int = 13) -> Data:
    """Fill the migrated, empty database at `dsn`; returns what the workload needs."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    employees = _employees(sizes.employees, len(OFFICES), rng)
    sellers = [e for e in employees if e.role == "employee"]
    clients = _clients(sizes.clients, sellers, len(OFFICES), rng)
    n = len(clients)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off")
        async with conn.transaction():
            await _copy_people(conn, employees, clients, now, rng)
        # The rows are consistent by construction: skip the per-row foreign-key triggers
        # (superuser only) and build the secondary indexes once, after the load.
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET session_replication_role = replica")
        indexes = await conn.fetch(INDEXES, list(EVENT_TABLES))
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["name"]}"')
        counts = await bot_events.fill(conn, n, sizes.events, seed)
        for row in indexes:
            await conn.execute(row["definition"])
        await conn.execute("RESET session_replication_role")
        # As autovacuum leaves tables at rest: statistics, and the visibility map that lets
        # an index-only scan skip the table (without it the run would measure when autovacuum
        # happens to get to the freshly loaded tables).
        await conn.execute("VACUUM ANALYZE")
        data = Data(employees, clients, _heavy(n))
        await _index(conn, data)
    finally:
        await conn.close()
    data.counts = counts
    data.seconds = time.perf_counter() - started
    return data


def _heavy(n: int) -> list[int]:
    m = bot_events.scatter_for(n)
    return [r * m % n + 1 for r in range(max(1, n // 100))]


async def _copy_people(
    conn: asyncpg.Connection,
    employees: list[Employee],
    clients: list[Client],
    now: datetime,
    rng: random.Random,
) -> None:
    await conn.copy_records_to_table(
        "offices",
        records=[(i, name, tz, True, now, now) for i, (name, tz) in enumerate(OFFICES, 1)],
        columns=["id", "name", "timezone", "is_active", "created_at", "updated_at"],
    )
    await conn.copy_records_to_table(
        "employees",
        records=[
            (
                e.id,
                e.name,
                e.role,
                e.office_id,
                e.telegram_id,
                "en" if e.id % 10 == 0 else "ru",
                True,
                True,
                now,
                now,
            )
            for e in employees
        ],
        columns=[
            "id",
            "name",
            "role",
            "office_id",
            "telegram_id",
            "locale",
            "is_active",
            "on_shift",
            "created_at",
            "updated_at",
        ],
    )
    client_rows, contact_rows, identity_rows, tag_rows = [], [], [], []
    contact_id = identity_id = 0
    for c in clients:
        created = now - timedelta(days=730 * rng.random())
        name = f"{c.last} {c.first}"
        kind = "person"
        contacts: list[str] = []
        if c.company and rng.random() < 0.25:  # a company client with its contact persons
            kind, name = "company", c.company
            contacts = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 2))]
            contacts[0] = f"{c.first} {c.last}"
        client_rows.append(
            (
                c.id,
                kind,
                name,
                c.company if kind == "person" else None,
                search_text_of(name, c.company if kind == "person" else None, contacts),
                c.owner_id,
                c.office_id,
                created,
                created,
            )
        )
        for i, person in enumerate(contacts):
            contact_id += 1
            contact_rows.append((contact_id, c.id, person, None, i == 0, created, created))
        identity_id += 1
        identity_rows.append((identity_id, c.id, "phone", c.phone, created, created))
        if rng.random() < 0.3:
            identity_id += 1
            identity_rows.append(
                (identity_id, c.id, "email", f"client{c.id}@example.ru", created, created)
            )
        if rng.random() < 0.1:
            tag_rows.append((c.id, rng.choice(("vip", "опт", "тендер"))))
    await conn.copy_records_to_table(
        "clients",
        records=client_rows,
        columns=[
            "id",
            "kind",
            "name",
            "company",
            "search_text",
            "owner_id",
            "office_id",
            "created_at",
            "updated_at",
        ],
    )
    await conn.copy_records_to_table(
        "contact_persons",
        records=contact_rows,
        columns=["id", "client_id", "name", "position", "is_primary", "created_at", "updated_at"],
    )
    await conn.copy_records_to_table(
        "channel_identities",
        records=identity_rows,
        columns=["id", "client_id", "channel", "address", "created_at", "updated_at"],
    )
    await conn.copy_records_to_table("client_tags", records=tag_rows, columns=["client_id", "tag"])
    for table in ("offices", "employees", "clients", "contact_persons", "channel_identities"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


async def _index(conn: asyncpg.Connection, data: Data) -> None:
    """Ids the workload presses: new leads, some leads, open deals (and their next stage)."""
    for row in await conn.fetch(
        "SELECT id, assignee_id FROM leads WHERE status = 'new' AND assignee_id IS NOT NULL"
    ):
        data.new_leads.setdefault(row["assignee_id"], []).append(row["id"])
    for row in await conn.fetch(
        "SELECT id, assignee_id FROM leads WHERE id % 23 = 0 AND assignee_id IS NOT NULL"
    ):
        data.leads.setdefault(row["assignee_id"], []).append(row["id"])
    rows = await conn.fetch("""
        SELECT d.id, d.owner_id, d.status, (
            SELECT n.id FROM pipeline_stages n
            WHERE n.pipeline_id = d.pipeline_id AND n.position > s.position AND n.kind = 'open'
            ORDER BY n.position LIMIT 1) AS next_stage
        FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id
        WHERE d.id % 7 = 0 AND d.owner_id IS NOT NULL
    """)
    for row in rows:
        data.deals.setdefault(row["owner_id"], []).append(row["id"])
        if row["status"] == "open" and row["next_stage"] is not None:
            data.open_deals.setdefault(row["owner_id"], []).append((row["id"], row["next_stage"]))
