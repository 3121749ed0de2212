"""The generated hostile-input suite (tests/hostile/) with a larger budget of examples.

    .venv/bin/python bench/hostile.py [--examples 300] [--backend both|sqlite|postgresql]

Runs the same tests as `.ci/run` under the hypothesis profile `long`: more examples per test,
drawn fresh each run (the CI profile is derandomized, so it tries the same inputs every
time). Prints how many examples ran per endpoint and outcome, and the time taken. A failure
prints the shrunk input and a `@reproduce_failure` line to replay it. PostgreSQL and Redis as
for the test suite (CI=true is set, so an unreachable PostgreSQL fails rather than skips).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="examples per test")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    args = parser.parse_args(argv)
    env = {
        **os.environ,
        "CI": "true",
        "HYPOTHESIS_PROFILE": "long",
        "HOSTILE_EXAMPLES": str(args.examples),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hostile"]
    if args.backend != "both":
        command += ["-k", args.backend]
    print(f"hostile inputs: {args.examples} examples per test, backend {args.backend}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, cwd=ROOT, env=env)
    print(f"took {time.monotonic() - started:.0f} s; exit code {code}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
