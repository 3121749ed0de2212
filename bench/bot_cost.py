"""Where the CPU goes, per kind of update (`python -m bench.bot --by-kind N`): N updates of one
kind at a time, 12 employees at once, through the product's dispatcher; for each kind the CPU
this process spent per update and the CPU PostgreSQL's backends of the bench database spent
per update (read from /proc, so only with the server on this machine)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import asyncpg
from aiogram import Bot, Dispatcher

from bench.bot_dispatch import feed
from bench.bot_workload import KINDS, Workload, lanes, plan

_TICK = 100  # clock ticks per second in /proc/<pid>/stat (USER_HZ)


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


async def _backends(conn: asyncpg.Connection, database: str) -> list[int]:
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )
    return [row["pid"] for row in rows]


async def by_kind(
    workload: Workload,
    dispatcher: Dispatcher,
    bot: Bot,
    dsn: str,
    database: str,
    count: int,
    concurrency: int,
    first_id: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Feeds `count` updates of each kind and prints CPU per update here and in PostgreSQL."""
    conn = await asyncpg.connect(dsn)
    rows: list[dict[str, Any]] = []
    print(f"\nCPU per update by kind ({count} updates each, {concurrency} at once)")
    print(f"{'kind':<20}{'this process ms':>16}{'PostgreSQL ms':>15}{'wall ms/update':>16}")
    try:
        for n, kind in enumerate(KINDS):
            steps = plan(workload, count, random.Random(seed + n), (kind,))
            pids = await _backends(conn, database)
            pg_before = {pid: _cpu_seconds(pid) for pid in pids}
            here_before, started = time.process_time(), time.perf_counter()
            _, found = await feed(dispatcher, bot, lanes(steps, concurrency, first_id))
            here = time.process_time() - here_before
            wall = time.perf_counter() - started
            first_id += 10_000_000
            pids = await _backends(conn, database)
            pg = sum(_cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in pids)
            done = len(found) or 1
            row = {
                "kind": kind.name,
                "here_ms": here / done * 1000,
                "pg_ms": pg / done * 1000,
                "wall_ms": wall / done * 1000,
            }
            rows.append(row)
            print(
                f"{kind.name:<20}{row['here_ms']:>16.2f}{row['pg_ms']:>15.2f}"
                f"{row['wall_ms']:>16.2f}"
            )
        weights = {k.name: k.weight for k in KINDS}
        total = sum(weights.values())
        mix = {
            key: sum(r[key] * weights[r["kind"]] for r in rows) / total
            for key in ("here_ms", "pg_ms", "wall_ms")
        }
        print(
            f"{'the mix (weighted)':<20}{mix['here_ms']:>16.2f}{mix['pg_ms']:>15.2f}"
            f"{mix['wall_ms']:>16.2f}"
        )
    finally:
        await conn.close()
    return rows
