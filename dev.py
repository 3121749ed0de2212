#!/usr/bin/env python3
"""Bootstrap for a fresh machine that has only python3.

    python3 dev.py run [crm run options]   start the product (SQLite, bot off without a token)
    python3 dev.py test [pytest options]   run the whole test suite
    python3 dev.py crm ...                 any other `crm` command (create-admin, employee add…)

Creates ./.venv and installs the project into it the first time (and again whenever
pyproject.toml changes). Standard library only.
"""

from __future__ import annotations

import hashlib
import os
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


def ensure_env_file() -> None:
    """A first run gets a .env with a generated FORMS_TOKEN, so site forms work at once."""
    env = ROOT / ".env"
    if env.exists() or os.environ.get("FORMS_TOKEN"):
        return
    token = secrets.token_urlsafe(18)
    env.write_text(
        "# chatcrm settings (see README: Configuration). Created by dev.py on first run.\n"
        f"FORMS_TOKEN={token}\n"
        "# TELEGRAM_BOT_TOKEN=123456:ABC-from-BotFather\n",
        encoding="utf-8",
    )
    print(f"wrote .env with FORMS_TOKEN={token}", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "crm"):
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "test":
        args = [str(BIN / "python"), "-m", "pytest", *rest]
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
