"""bench/when.py at one round, so that the benchmark never rots: it times parse_when beside the
bare library call and scores the readers that are installed (parse_when and timesense always).
No timing is judged here: the figures are the bench's."""

from __future__ import annotations

import pytest

from bench import when


def test_the_parse_when_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    when.main(["--rounds", "1", "--compare"])
    out = capsys.readouterr().out
    assert "timesense (bare)" in out and "the 5 ms target" in out
    assert "parse_when       exact 112/114 (98%), no answer 2, wrong 0" in out
