"""`crm`: the command line. Exit 0 on success; one clear message and non-zero on error.

One module per group of commands (run, admins, people, work), each adding its own parsers;
common.py holds what they share."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from cli import admins, people, run, work
from config.settings import ConfigError, load_settings
from services.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick otherwise
    try:
        settings = load_settings()
        return asyncio.run(args.func(settings, args)) or 0
    except ConfigError as exc:
        print(f"crm: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"crm: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm", description="chatcrm: chat-first CRM")
    sub = parser.add_subparsers(title="commands")
    for commands in (run, admins, people, work):
        commands.register(sub)
    return parser
