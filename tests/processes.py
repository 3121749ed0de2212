"""`crm` as real processes on real ports, for tests of what an operator sees."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CRM = str(Path(sys.executable).parent / "crm")
FOREIGN = ("TELEGRAM_", "FORMS", "CALLS", "PUBLIC_URL", "REDIS_URL", "HTTP_", "MANGO")


def free_port() -> int:
    """A port nothing listens on (yet): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# A real `crm run` runs the scheduler on the real clock: from 09:00 in Moscow its first tick
# writes every employee's daily digest, which a test counting the cards a chat got would count
# too. Tests of processes move the digest to the day's last minute.
NO_DIGESTS = "23:59"


def environment(folder: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without the product's settings, SQLite in `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'crm.sqlite3'}"
    env["DIGEST_TIME"] = NO_DIGESTS
    env.update(extra)
    return env


def crm(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CRM, *args], env=env, cwd=folder, capture_output=True, text=True, timeout=120
    )


@contextlib.contextmanager
def crm_run(folder: Path, env: dict[str, str]) -> Iterator[Path]:
    """`crm run` in `folder` (its .env is read); yields the file its log goes to."""
    log_path = folder / "crm.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [CRM, "run"], env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield log_path
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_line(log_path: Path, text: str, timeout: float = 60) -> list[str]:
    """The log's lines once one of them contains `text` (a process on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log_path.read_text(encoding="utf-8").splitlines()
        if any(text in line for line in lines):
            return lines
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in the log:\n{log_path.read_text(encoding='utf-8')}")
