"""bench/bot.py in quick mode (small sizes), so that the benchmark never rots: it builds its
database, feeds the same updates to the product's dispatcher and to a bare aiogram one, and
prints the figures and which handler answered each kind of update."""

from __future__ import annotations

import os

import asyncpg
import pytest

from bench import bot
from bench.bot_workload import SEARCH_KINDS


async def test_the_bot_bench_runs_in_quick_mode(
    capsys: pytest.CaptureFixture[str], pg_server: str
) -> None:
    sizes = "--employees 40 --clients 600 --events 5000 --updates 120 --warmup 10 --alone 20"
    args = bot.parse_args(["--quick", *sizes.split()])

    figures = await bot.run(args)

    out = capsys.readouterr().out
    assert "ratio chatcrm/bare" in out and "p99 alone: searches" in out
    assert "p99 steady: searches" in out and "p99 at once (12 in flight" in out
    assert figures["rates"]["bare"] > 0 and figures["rates"]["chatcrm"] > 0
    # Every kind of search went through the product's dispatcher, and the lead buttons (whose
    # handler exists since the start) were answered by it, not by the stale-button fallback.
    assert SEARCH_KINDS <= figures["kinds"].keys()
    assert figures["kinds"]["lead card"] > 0
    assert figures["real"] >= figures["kinds"]["lead card"]
    assert "staff.leads.lead_button" in out
    # The pump delivered every screen the run produced.
    assert not figures["outbox"]["statuses"].get("pending")
    assert not figures["outbox"]["statuses"].get("dead")
    # The bench dropped its own database.
    conn = await asyncpg.connect(f"{bot.PG_SERVER}/postgres")
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
            f"chatcrm_bench_bot_{os.getpid()}_%",
        )
    finally:
        await conn.close()
    assert left == 0
