"""`crm run` and `crm migrate`: the product itself, and its database schema."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from typing import Any

from cli.common import log
from config.settings import Settings


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="apply migrations and run the product")
    run.add_argument(
        "--only",
        choices=("web", "bot", "scheduler", "worker"),
        help="run one role (scale-out with PostgreSQL and Redis)",
    )
    run.set_defaults(func=_run)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=_migrate)


async def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    import migrations

    await migrations.upgrade_async(settings.database_url)
    print("database is up to date")
    return 0


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    import migrations
    from app import ROLES, Container, serve
    from webhooks.server import CannotListen

    roles = {args.only} if args.only else set(ROLES)
    if settings.is_sqlite and args.only:
        log.warning("--only with SQLite: run a single process, or use PostgreSQL and Redis")
    await migrations.upgrade_async(settings.database_url)
    container = Container.build(settings)
    # Everything loaded so far lives for the whole run: keep it out of the GC's scans, so
    # full collections under load stay short (latency tail).
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(container, roles, stop, started=lambda: _first_run_hints(container))
    except CannotListen as exc:
        print(f"crm: {exc}", file=sys.stderr)
        return 1
    return 0


async def _first_run_hints(container: Any) -> None:
    from services import admins

    s = container.settings
    async with container.db.unit_of_work() as session:
        has_admin = await admins.has_admin(session)
    base = f"http://{s.http_host}:{s.http_port}"
    if not has_admin:
        log.info(
            "no admin yet: create one with `crm create-admin LOGIN` (from a checkout: "
            "`python3 dev.py crm create-admin LOGIN`), then log in at %s/admin/",
            base,
        )
    if not s.forms_token:
        log.info(
            "site forms are off: set FORMS_TOKEN, then POST leads to %s/webhooks/forms/site", base
        )
    else:
        log.info("site forms: POST %s/webhooks/forms/<source>?token=FORMS_TOKEN", base)
    if not s.calls_token:
        log.info("calls from a PBX are off: set CALLS_TOKEN, then POST to %s/webhooks/calls", base)
    else:
        log.info(
            "calls from a PBX: POST JSON to %s/webhooks/calls with header X-CRM-Token: CALLS_TOKEN"
            " (fields: see README, Calls)",
            base,
        )
    log.info(
        "add staff with `crm employee add --name NAME --role employee`; health: %s/healthz", base
    )
