#!/usr/bin/env python3
"""Bootstrap for a fresh machine that has only python3.

    python3 dev.py run [crm run options]   start the product (SQLite, bot off without a token)
    python3 dev.py test [pytest options]   run the whole test suite (on every core)
    python3 dev.py crm ...                 any other `crm` command (create-admin, employee add…)

Creates ./.venv and installs the project into it the first time (and again whenever
pyproject.toml changes). Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv() -> None:
    python = BIN / "python"
    if not python.exists():
        print("creating .venv …", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except Exception as exc:  # Debian without python3-venv, for one
            sys.exit(f"dev.py: could not create .venv ({exc}); install python3-venv")
    stamp = VENV / ".installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("installing chatcrm and its dependencies into .venv …", flush=True)
    subprocess.check_call([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    subprocess.check_call([python, "-m", "pip", "install", "-q", "-e", ".[dev]"], cwd=ROOT)
    stamp.write_text(digest)


ENV_HEADER = "# chatcrm settings (see README: Configuration). Created by dev.py on first run.\n"
GENERATED = ("FORMS_TOKEN", "CALLS_TOKEN")  # shared secrets for site forms and the calls webhook


def ensure_env_file(root: Path = ROOT) -> None:
    """A first run gets a .env with generated FORMS_TOKEN and CALLS_TOKEN, so site forms and
    the calls webhook work at once. A .env that dev.py wrote earlier gets the tokens it lacks
    (older versions wrote only FORMS_TOKEN); a .env written by hand is never touched, and a
    token set in the environment is not generated."""
    env = root / ".env"
    text = env.read_text(encoding="utf-8") if env.exists() else ""
    if text and not text.startswith(ENV_HEADER):
        return
    missing = [
        name
        for name in GENERATED
        if not os.environ.get(name) and not re.search(rf"^\s*{name}\s*=", text, re.MULTILINE)
    ]
    if not missing:
        return
    if not text:
        text = ENV_HEADER + "# TELEGRAM_BOT_TOKEN=123456:ABC-from-BotFather\n"
    added = {name: secrets.token_urlsafe(18) for name in missing}
    text = text if text.endswith("\n") else text + "\n"
    env.write_text(text + "".join(f"{k}={v}\n" for k, v in added.items()), encoding="utf-8")
    print("wrote .env with " + ", ".join(f"{k}={v}" for k, v in added.items()), flush=True)


def parallel(pytest_args: list[str]) -> list[str]:
    """The suite runs on every core (pytest-xdist: one process per core, each with its own
    databases and Redis prefix) unless the arguments choose otherwise (`-n 0`, `-p no:xdist`)."""
    chosen = any(
        a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in pytest_args
    )
    return [] if chosen else ["-n", "auto"]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "crm"):
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "test":
        args = [str(BIN / "python"), "-m", "pytest", *parallel(rest), *rest]
    else:
        if command == "run":
            ensure_env_file()
            rest = ["run", *rest]
        args = [str(BIN / "crm"), *rest]
    # Become the command, so that signals (Ctrl-C, a service manager's SIGTERM) reach it.
    os.execv(args[0], args)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
