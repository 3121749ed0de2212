"""bench/admin.py at a small size, so that the benchmark never rots: every list page gives a
time beside the bare handler's, the 10,000-deal reassign and delete are counted, applied and
undone, and a broadcast goes out at the fake WhatsApp's limit while cards keep coming."""

from __future__ import annotations

import asyncio
import gc
import re

import pytest

from bench import admin as bench
from tests.conftest import scratch_pg_database


def test_the_admin_bench_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    with scratch_pg_database("bench_admin") as sa_url:
        url = sa_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        small = ["--deals", "12000", "--clients", "3000", "--repeat", "2", "--import-rows", "2000"]
        small += ["--broadcast-clients", "300", "--wa-rate", "200"]
        args = bench.parse_args([*small, "--database-url", url])
        try:
            asyncio.run(bench.run(args))
        finally:
            gc.unfreeze()
    out = capsys.readouterr().out
    timed = [
        line
        for line in out.splitlines()
        if line.count("ms") == 4 and "bulk" not in line and not line.startswith("cards")
    ]
    assert len(timed) == 11  # eight deal pages, three client pages: ours and bare
    assert sum(line.endswith(" 50") for line in timed) >= 7  # full pages
    assert "bulk reassign: 10000 deals, 10000 tasks" in out
    assert "(10000 deals, 10000 tasks back)" in out
    assert "bulk delete: 10000 deals, 10000 tasks" in out and "(10000 deals back)" in out
    assert "import of a 2000-row XLSX" in out and "applied" in out
    assert "broadcast of 300 at 200/s" in out and "sent 300, failed 0" in out
    # The lane keeps under the provider's limit (a refusal is retried: a stalled event loop
    # can bunch arrivals, but not often).
    refused = int(re.search(r"refused by the provider: (\d+)", out).group(1))
    assert refused <= 3
    assert re.search(r"cards: before p50 \d+ ms, p99 \d+ ms \(\d+\); during p50", out)
