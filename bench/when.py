"""What reading a typed due time costs, and how right it is.

    .venv/bin/python -m bench.when [--rounds 20] [--compare]

Times `services.when.parse_when` on every phrase of the corpus (tests/when_corpus.py), `rounds`
times over, beside the bare library call it wraps (timesense's `parse`) in the same process:
p50, p95 and the slowest, in milliseconds (target: p95 < 5 ms). With `--compare`, also scores
the libraries that were weighed for the job on the same corpus (each one that is installed:
`pip install dateparser ctparse parsedatetime` to include them): exact / asked (no answer) /
wrong, the wrong ones listed. README, "Free-text times", quotes these figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services import when  # noqa: E402
from tests.when_corpus import ASK, CASES, now_of  # noqa: E402

Reader = Callable[[str, datetime, ZoneInfo], datetime | None]


def timings(read: Callable[[str, datetime, ZoneInfo], object], rounds: int) -> list[float]:
    cases = [(text, *now_of(key)) for key, text, _ in CASES]
    for text, now, zone in cases:  # warm: regexes compiled, the library's tables loaded
        read(text, now, zone)
    spent = []
    for _ in range(rounds):
        for text, now, zone in cases:
            started = time.perf_counter()
            read(text, now, zone)
            spent.append((time.perf_counter() - started) * 1000)
    return spent


def line(name: str, spent: list[float]) -> str:
    cuts = statistics.quantiles(spent, n=100)
    return f"{name:26} p50 {cuts[49]:6.3f}  p95 {cuts[94]:6.3f}  max {max(spent):6.3f} ms"


def bare_timesense(text: str, now: datetime, zone: ZoneInfo) -> object:
    return when._parser().parse(text, now=now, tz=zone)


def ours(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    got = when.parse_when(text, now, zone)
    return got.at if isinstance(got, when.Understood) else None


def timesense_alone(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    found = bare_timesense(text, now, zone)
    moment = getattr(found, "when", None)
    return moment.astimezone(UTC) if moment is not None else None


def readers() -> dict[str, Reader]:
    found: dict[str, Reader] = {"parse_when": ours, "timesense alone": timesense_alone}
    try:
        import dateparser
    except ImportError:
        print("(dateparser is not installed: `pip install dateparser` to score it too)")
    else:

        def with_dateparser(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
            moment = dateparser.parse(
                text,
                languages=["ru", "en"],
                settings={
                    "RELATIVE_BASE": now.replace(tzinfo=None),
                    "PREFER_DATES_FROM": "future",
                    "TIMEZONE": zone.key,
                    "RETURN_AS_TIMEZONE_AWARE": True,
                },
            )
            return moment.astimezone(UTC) if moment is not None else None

        found["dateparser"] = with_dateparser
    try:
        import ctparse
    except ImportError:
        print("(ctparse is not installed: `pip install ctparse` to score it too)")
    else:

        def with_ctparse(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
            parsed = ctparse.ctparse(text, ts=now.replace(tzinfo=None), timeout=1)
            moment = getattr(parsed.resolution, "dt", None) if parsed else None
            return moment.replace(tzinfo=zone).astimezone(UTC) if moment else None

        found["ctparse"] = with_ctparse
    try:
        import parsedatetime
    except ImportError:
        print("(parsedatetime is not installed: `pip install parsedatetime` to score it too)")
    else:
        calendar = parsedatetime.Calendar()

        def with_parsedatetime(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
            moment, found_any = calendar.parseDT(text, sourceTime=now.replace(tzinfo=None))
            return moment.replace(tzinfo=zone).astimezone(UTC) if found_any else None

        found["parsedatetime"] = with_parsedatetime
    return found


def score(name: str, read: Reader) -> None:
    exact, asked, wrong = 0, 0, []
    for key, text, expected in CASES:
        now, zone = now_of(key)
        try:
            got = read(text, now, zone)
        except Exception:
            got = None
        if expected == ASK:
            if got is None:
                exact += 1
            else:
                wrong.append(f"{text!r} → {got.astimezone(zone):%a %d.%m %H:%M} (should ask)")
            continue
        meant = datetime.fromisoformat(expected).replace(tzinfo=zone).astimezone(UTC)
        if got is None:
            asked += 1
        elif got == meant:
            exact += 1
        else:
            wrong.append(f"{text!r} → {got.astimezone(zone):%a %d.%m %H:%M} (meant {expected})")
    total = len(CASES)
    print(
        f"{name:16} exact {exact}/{total} ({exact / total:.0%}), no answer {asked}, "
        f"wrong {len(wrong)}"
    )
    for item in wrong:
        print(f"    {item}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="score the libraries too")
    args = parser.parse_args(argv)
    print(f"{len(CASES)} phrases x {args.rounds} rounds")
    print(line("timesense (bare)", timings(bare_timesense, args.rounds)))
    spent = timings(when.parse_when, args.rounds)
    print(line("parse_when", spent))
    p95 = statistics.quantiles(spent, n=100)[94]
    print(f"parse_when p95 {p95:.3f} ms: {'meets' if p95 < 5 else 'MISSES'} the 5 ms target")
    if args.compare:
        for name, read in readers().items():
            score(name, read)


if __name__ == "__main__":
    main()
