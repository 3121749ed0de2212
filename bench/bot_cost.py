"""Where the CPU goes, per kind of update (`python -m bench.bot --by-kind N`): N updates of one
kind at a time, 12 employees at once, through the product's dispatcher; for each kind the CPU
this process spent per update and the CPU PostgreSQL's backends of the bench database spent
per update (read from /proc, so only with the server on this machine)."""

from __future__ import annotations

import random
import time
from asyncio import selector_events
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


class _Writes:
    """Counts the socket writes of this process (each PostgreSQL round trip is one; the
    product's dispatcher makes no Bot API request of its own)."""

    def __init__(self) -> None:
        self.count = 0
        self._real = selector_events._SelectorSocketTransport.write

    def __enter__(self) -> _Writes:
        real = self._real

        def write(transport: Any, data: Any) -> None:
            self.count += 1
            real(transport, data)

        selector_events._SelectorSocketTransport.write = write  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        selector_events._SelectorSocketTransport.write = self._real  # type: ignore[method-assign]


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
    print(
        f"{'kind':<20}{'this process ms':>16}{'PostgreSQL ms':>15}{'wall ms/update':>16}"
        f"{'writes/update':>15}"
    )
    try:
        for n, kind in enumerate(KINDS):
            steps = plan(workload, count, random.Random(seed + n), (kind,))
            pids = await _backends(conn, database)
            pg_before = {pid: _cpu_seconds(pid) for pid in pids}
            here_before, started = time.process_time(), time.perf_counter()
            with _Writes() as writes:
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
                "writes": writes.count / done,
            }
            rows.append(row)
            print(
                f"{kind.name:<20}{row['here_ms']:>16.2f}{row['pg_ms']:>15.2f}"
                f"{row['wall_ms']:>16.2f}{row['writes']:>15.1f}"
            )
        weights = {k.name: k.weight for k in KINDS}
        total = sum(weights.values())
        mix = {
            key: sum(r[key] * weights[r["kind"]] for r in rows) / total
            for key in ("here_ms", "pg_ms", "wall_ms", "writes")
        }
        print(
            f"{'the mix (weighted)':<20}{mix['here_ms']:>16.2f}{mix['pg_ms']:>15.2f}"
            f"{mix['wall_ms']:>16.2f}{mix['writes']:>15.1f}"
        )
    finally:
        await conn.close()
    return rows
