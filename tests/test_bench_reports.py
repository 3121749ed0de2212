"""bench/reports.py at a small size, so that the benchmark never rots: it seeds a scratch
database, and every report, at every period and scope, gives a time beside the hand-written
query's."""

from __future__ import annotations

import pytest

from bench import reports as bench
from tests.conftest import scratch_pg_database


def test_the_reports_bench_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    with scratch_pg_database("bench_reports") as sa_url:
        url = sa_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        args = bench.parse_args(
            [
                "--deals",
                "2000",
                "--leads",
                "4000",
                "--calls",
                "1000",
                "--repeat",
                "1",
                "--database-url",
                url,
            ]
        )
        found = asyncio.run(bench.run(args))
    out = capsys.readouterr().out
    assert len(found) == 3 * 3 * 2  # three reports, three periods, two scopes
    assert all(ours > 0 and hand > 0 for ours, hand in found.values())
    assert "by hand" in out and "digests counted" in out
    assert "Monday's 200 digests and 20 charts written" in out  # all sent
