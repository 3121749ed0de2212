"""bench/reminders.py at a small size, so that the benchmark never rots: reminders due in a few
seconds reach a fake Bot API that enforces Telegram's limits, each once."""

from __future__ import annotations

import os

import asyncpg
import pytest

from bench import bot, reminders

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def test_the_reminders_bench_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        conn = await asyncpg.connect(f"{bot.PG_SERVER}/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable ({exc}); CI requires it", pytrace=False)
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    await conn.close()
    args = reminders.parse_args("--reminders 60 --employees 10 --spread 2 --lead 3".split())

    ours, bare = await reminders.run(args)

    out = capsys.readouterr().out
    assert "chatcrm" in out and "bare aiogram + limiter" in out and "floor" in out
    assert ours.delivered == 60 and ours.twice == 0
    assert bare is not None and bare.delivered == 60 and bare.twice == 0
