"""The staff bot bench's timeline events: leads, calls, deals with their stage changes, tasks
and notes, made by PostgreSQL itself with INSERT … SELECT over generate_series, so a million
rows never cross the wire.

Events are skewed over clients: event j goes to the client of rank floor(N · u³) (u uniform),
and ranks are scattered over ids, so most clients have a handful of events and a few hundred
have thousands (a big account). Every client's events belong to its owner (leads assigned to
them, deals owned by them), so an employee's searches, cards and lists find real data.
"""

from __future__ import annotations

import math

import asyncpg

# Ranks are scattered over client ids with a multiplier coprime to N.
SCATTER = (7919, 7907, 7901, 7883)
PHONE_MULTIPLIER = 104729  # prime, coprime with 10**9: client i's phone is unique
NOTES = (
    "Просит перезвонить после обеда",
    "Отправил коммерческое предложение",
    "Клиент сравнивает с конкурентами",
    "Нужна скидка 5% для согласования",
    "Договорились о встрече в офисе",
    "Ждёт счёт на оплату",
)


def scatter_for(n: int) -> int:
    return next(m for m in SCATTER if math.gcd(m, n) == 1)


def _client_of(n: int, u: str = "random()") -> str:
    """SQL: a client id from a skewed rank (most events on few clients), scattered over ids."""
    return f"(least(floor({n} * power({u}, 3)), {n - 1})::bigint * {scatter_for(n)} % {n} + 1)"


async def fill(conn: asyncpg.Connection, n: int, events: int, seed: int) -> dict[str, int]:
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
