"""bench/reminders.py at a small size, so that the benchmark never rots: reminders due in a few
seconds reach a fake Bot API that enforces Telegram's limits, each once."""

from __future__ import annotations

import pytest

from bench import reminders


async def test_the_reminders_bench_runs_small(
    capsys: pytest.CaptureFixture[str], pg_server: str
) -> None:
    args = reminders.parse_args("--reminders 60 --employees 10 --spread 2 --lead 3".split())

    ours, bare = await reminders.run(args)

    out = capsys.readouterr().out
    assert "chatcrm" in out and "bare aiogram + limiter" in out and "floor" in out
    assert ours.delivered == 60 and ours.twice == 0
    assert bare is not None and bare.delivered == 60 and bare.twice == 0
