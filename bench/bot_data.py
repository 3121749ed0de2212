"""The staff bot bench's data: a fresh PostgreSQL database filled fast, through bulk paths.

Employees, offices, clients, contact persons, identities and tags are made in Python and sent
with COPY (`copy_records_to_table`); timeline events (leads, calls, deals with their stage
changes, tasks, notes) are made by PostgreSQL itself with INSERT … SELECT over
generate_series, so a million rows never cross the wire. The schema comes from the project's
migrations, so every index is the real one.

Events are skewed over clients: event j goes to the client of rank floor(N · u³) (u uniform),
and ranks are scattered over ids, so most clients have a handful of events and a few hundred
have thousands (a big account). Every client's events belong to its owner (leads assigned to
them, deals owned by them), so an employee's searches, cards and lists find real data.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from services.clients.matching import search_text_of

# Ranks are scattered over client ids with a multiplier coprime to N.
SCATTER = (7919, 7907, 7901, 7883)
PHONE_MULTIPLIER = 104729  # prime, coprime with 10**9: client i's phone is unique
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
NOTES = (
    "Просит перезвонить после обеда",
    "Отправил коммерческое предложение",
    "Клиент сравнивает с конкурентами",
    "Нужна скидка 5% для согласования",
    "Договорились о встрече в офисе",
    "Ждёт счёт на оплату",
)


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


def scatter_for(n: int) -> int:
    return next(m for m in SCATTER if math.gcd(m, n) == 1)


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
        counts = await _events(conn, n, sizes.events, seed)
        for row in indexes:
            await conn.execute(row["definition"])
        await conn.execute("RESET session_replication_role")
        await conn.execute("ANALYZE")
        data = Data(employees, clients, _heavy(n))
        await _index(conn, data)
    finally:
        await conn.close()
    data.counts = counts
    data.seconds = time.perf_counter() - started
    return data


def _heavy(n: int) -> list[int]:
    m = scatter_for(n)
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


def _client_of(n: int, u: str = "random()") -> str:
    """SQL: a client id from a skewed rank (most events on few clients), scattered over ids."""
    return f"(least(floor({n} * power({u}, 3)), {n - 1})::bigint * {scatter_for(n)} % {n} + 1)"


async def _events(conn: asyncpg.Connection, n: int, events: int, seed: int) -> dict[str, int]:
    """Leads 25%, calls 20%, deals 8% (with ~3 stage changes each), tasks 10%, notes the rest."""
    leads, calls, deals, tasks = (int(events * f) for f in (0.25, 0.20, 0.08, 0.10))
    await conn.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    pipeline = await conn.fetchval("SELECT id FROM pipelines ORDER BY is_default DESC, id LIMIT 1")
    stages = await conn.fetch(
        "SELECT id, kind FROM pipeline_stages WHERE pipeline_id = $1 ORDER BY position", pipeline
    )
    open_ids = [r["id"] for r in stages if r["kind"] == "open"]
    won = next(r["id"] for r in stages if r["kind"] == "won")
    lost = next(r["id"] for r in stages if r["kind"] == "lost")
    client = _client_of(n)
    phone = f"'+79' || lpad((c.id * {PHONE_MULTIPLIER} % 1000000000)::text, 9, '0')"
    counts: dict[str, int] = {}
    counts["leads"] = _count(
        await conn.execute(f"""
        INSERT INTO leads (client_id, status, source, name, phone, extra, office_id, assignee_id,
            is_returning, taken_at, closed_at, closed_by_id, first_response_seconds, close_reason,
            utm_source, created_at, updated_at)
        SELECT c.id, g.status, g.source, c.name, {phone}, '{{}}'::jsonb, c.office_id,
            CASE WHEN g.status = 'new' AND g.r < 0.003 THEN NULL ELSE c.owner_id END,
            g.r < 0.5, CASE WHEN g.status <> 'new' THEN g.at + g.response END,
            CASE WHEN g.status IN ('non_target', 'spam') THEN g.at + g.response END,
            CASE WHEN g.status IN ('non_target', 'spam') THEN c.owner_id END,
            CASE WHEN g.status <> 'new' THEN extract(epoch FROM g.response)::int END,
            CASE g.status WHEN 'spam' THEN 'spam' WHEN 'non_target' THEN 'не наш регион' END,
            (ARRAY['yandex', 'vk', 'avito', 'google'])[1 + floor(g.r * 40)::int % 4], g.at, g.at
        FROM (
            SELECT {client} AS client_id, s.r,
                CASE WHEN s.r < 0.03 THEN 'new' WHEN s.r < 0.80 THEN 'target'
                     WHEN s.r < 0.93 THEN 'non_target' ELSE 'spam' END AS status,
                (ARRAY['form:tilda', 'call', 'whatsapp', 'form:site'])[1 + floor(random() * 4)::int]
                    AS source,
                CASE WHEN s.r < 0.03 THEN now() - random() * interval '3 days'
                     ELSE now() - interval '3 days' - random() * interval '727 days' END AS at,
                random() * interval '2 hours' AS response
            FROM (SELECT random() AS r FROM generate_series(1, {leads})) s
        ) g JOIN clients c ON c.id = g.client_id
    """)
    )
    counts["calls"] = _count(
        await conn.execute(f"""
        INSERT INTO calls (provider, external_id, direction, client_number, employee_id,
            client_id, status, phase, started_at, answered_at, ended_at, talk_seconds, legs,
            created_at, updated_at)
        SELECT 'mango', 'bench-' || g.i, CASE WHEN g.r < 0.6 THEN 'in' ELSE 'out' END, {phone},
            c.owner_id, c.id, CASE WHEN g.r2 < 0.8 THEN 'answered' ELSE 'missed' END, 'ended',
            g.at, CASE WHEN g.r2 < 0.8 THEN g.at + interval '10 seconds' END,
            g.at + interval '10 seconds' + g.r2 * interval '6 minutes',
            CASE WHEN g.r2 < 0.8 THEN (g.r2 * 360)::int ELSE 0 END, '{{}}'::jsonb, g.at, g.at
        FROM (
            SELECT i, {client} AS client_id, random() AS r, random() AS r2,
                now() - random() * interval '730 days' AS at
            FROM generate_series(1, {calls}) i
        ) g JOIN clients c ON c.id = g.client_id
    """)
    )
    # Stage by weight: open stages 60% (evenly), won 25%, lost 15%.
    counts["deals"] = _count(
        await conn.execute(f"""
        INSERT INTO deals (client_id, pipeline_id, stage_id, title, amount, cost, currency,
            owner_id, office_id, status, stage_changed_at, closed_at, lost_reason, created_at,
            updated_at)
        SELECT c.id, {pipeline}, g.stage, 'Сделка: ' || coalesce(c.company, c.name),
            round((10000 + g.r2 * 2000000)::numeric, -3),
            CASE WHEN g.r2 < 0.6 THEN round((5000 + g.r2 * 1000000)::numeric, -3) END, 'RUB',
            c.owner_id, c.office_id,
            CASE g.stage WHEN {won} THEN 'won' WHEN {lost} THEN 'lost' ELSE 'open' END,
            g.at + interval '5 days',
            CASE WHEN g.stage IN ({won}, {lost}) THEN g.at + interval '5 days' END,
            CASE WHEN g.stage = {lost} THEN 'дорого' END, g.at, g.at
        FROM (
            SELECT {client} AS client_id, s.r2,
                CASE WHEN s.r < 0.6
                     THEN (ARRAY{open_ids}::bigint[])[1 + floor(s.r / 0.6 * {len(open_ids)})::int]
                     WHEN s.r < 0.85 THEN {won} ELSE {lost} END AS stage,
                now() - interval '6 days' - random() * interval '720 days' AS at
            FROM (SELECT random() AS r, random() AS r2 FROM generate_series(1, {deals})) s
        ) g JOIN clients c ON c.id = g.client_id
    """)
    )
    # An open deal went through every open stage up to its own; a closed one left from the
    # 1st..4th open stage. Change k goes from stage k-1 (none for the creation) to stage k.
    counts["deal_stage_changes"] = _count(
        await conn.execute(f"""
        INSERT INTO deal_stage_changes (deal_id, from_stage_id, to_stage_id, by_id, at)
        SELECT d.id,
            CASE WHEN k > 1 THEN (ARRAY{open_ids}::bigint[])[k - 1] END,
            CASE WHEN k = d.n THEN d.stage_id ELSE (ARRAY{open_ids}::bigint[])[k] END,
            d.owner_id, d.created_at + (k - 1) * interval '1 day'
        FROM (
            SELECT id, stage_id, owner_id, created_at,
                CASE WHEN status = 'open'
                     THEN array_position(ARRAY{open_ids}::bigint[], stage_id)
                     ELSE 2 + id % 4 END AS n
            FROM deals
        ) d, generate_series(1, d.n) k
    """)
    )
    counts["tasks"] = _count(
        await conn.execute(f"""
        INSERT INTO tasks (kind, title, status, due_at, done_at, assignee_id, created_by_id,
            client_id, created_at, updated_at)
        SELECT (ARRAY['general', 'call_back', 'visit'])[1 + floor(g.r * 3)::int],
            (ARRAY['Перезвонить', 'Отправить КП', 'Встреча', 'Уточнить бюджет'])
                [1 + floor(g.r2 * 4)::int],
            CASE WHEN g.r2 < 0.15 THEN 'open' ELSE 'done' END, g.at + interval '2 days',
            CASE WHEN g.r2 >= 0.15 THEN g.at + interval '1 day' END, c.owner_id, c.owner_id,
            c.id, g.at, g.at
        FROM (
            SELECT {client} AS client_id, random() AS r, random() AS r2,
                now() - random() * interval '730 days' AS at
            FROM generate_series(1, {tasks})
        ) g JOIN clients c ON c.id = g.client_id
    """)
    )
    notes = max(0, events - sum(counts.values()))
    on_deals = notes // 4
    texts = "ARRAY[" + ", ".join(f"'{t}'" for t in NOTES) + "]"
    counts["notes"] = _count(
        await conn.execute(f"""
        INSERT INTO notes (author_id, client_id, text, created_at, updated_at)
        SELECT c.owner_id, c.id, ({texts})[1 + floor(g.r * {len(NOTES)})::int], g.at, g.at
        FROM (
            SELECT {client} AS client_id, random() AS r,
                now() - random() * interval '730 days' AS at
            FROM generate_series(1, {notes - on_deals})
        ) g JOIN clients c ON c.id = g.client_id
    """)
    )
    deal_count = max(counts["deals"], 1)
    counts["notes"] += _count(
        await conn.execute(f"""
        INSERT INTO notes (author_id, client_id, deal_id, text, created_at, updated_at)
        SELECT d.owner_id, d.client_id, d.id, ({texts})[1 + floor(g.r * {len(NOTES)})::int],
            d.created_at + interval '1 day', d.created_at + interval '1 day'
        FROM (
            SELECT 1 + floor(random() * {deal_count})::bigint AS deal_id, random() AS r
            FROM generate_series(1, {on_deals})
        ) g JOIN deals d ON d.id = g.deal_id
    """)
    )
    return counts


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


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
