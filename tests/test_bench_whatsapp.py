"""bench/whatsapp.py at a small size, so that the benchmark never rots: WhatsApp messages posted
to a real `crm run` reach the fake Bot API, each once, and the baseline does the same."""

from __future__ import annotations

import pytest

from bench import whatsapp


async def test_the_whatsapp_bench_runs_small(
    capsys: pytest.CaptureFixture[str], pg_server: str
) -> None:
    args = whatsapp.parse_args(
        "--messages 60 --clients 12 --employees 4 --global-rate 1000 --chat-interval 0 "
        "--drain-timeout 60".split()
    )

    ours, bare = await whatsapp.run(args)

    out = capsys.readouterr().out
    assert "chatcrm" in out and "bare aiohttp+aiogram" in out and "ratio" in out
    assert ours.delivered == 60 and ours.twice == 0
    assert bare is not None and bare.delivered == 60 and bare.twice == 0
