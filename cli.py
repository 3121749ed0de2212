"""`crm`: the command line. Exit 0 on success; one clear message and non-zero on error."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from config.settings import ConfigError, Settings, load_settings
from models import Role
from services.errors import DomainError

log = logging.getLogger("chatcrm")


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
    run = sub.add_parser("run", help="apply migrations and run the product")
    run.add_argument(
        "--only",
        choices=("web", "bot", "scheduler", "worker"),
        help="run one role (scale-out with PostgreSQL and Redis)",
    )
    run.set_defaults(func=_run)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=_migrate)
    admin = sub.add_parser("create-admin", help="create an admin login for the web panel")
    admin.add_argument("login")
    admin.add_argument("--password", help="read from stdin when omitted")
    admin.set_defaults(func=_create_admin)
    employee = sub.add_parser("employee", help="manage employees").add_subparsers(title="actions")
    add = employee.add_parser("add", help="add an employee; prints the id and an invite link")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--telegram-id", type=int)
    add.add_argument("--phone")
    add.add_argument("--office", help="office name (created if new)")
    add.add_argument("--extension", help="PBX extension, so calls find the employee")
    add.set_defaults(func=_employee_add)
    schedule = employee.add_parser("schedule", help="set an employee's work schedule")
    schedule.add_argument("employee_id", type=int)
    schedule.add_argument("--days", required=True, help="e.g. mon-fri or sat,sun")
    schedule.add_argument("--from", dest="starts", required=True, help="HH:MM, office time")
    schedule.add_argument(
        "--to", dest="ends", required=True, help="HH:MM (before --from: overnight)"
    )
    schedule.set_defaults(func=_employee_schedule)
    line = sub.add_parser("line", help="manage phone lines").add_subparsers(title="actions")
    add_line = line.add_parser("add", help="add a phone line (a named lead source)")
    add_line.add_argument("--number", required=True)
    add_line.add_argument("--name", required=True)
    add_line.add_argument("--source", help="what the reports call it, e.g. yandex-direct")
    add_line.add_argument("--employee-id", type=int, help="whose phone rings on this line")
    add_line.set_defaults(func=_line_add)
    return parser


async def _with_db(settings: Settings, work: Callable[[Any], Awaitable[int]]) -> int:
    import migrations
    from models.db import Database

    await migrations.upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    try:
        async with db.unit_of_work() as session:
            return await work(session)
    finally:
        await db.dispose()


async def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    import migrations

    await migrations.upgrade_async(settings.database_url)
    print("database is up to date")
    return 0


async def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from services import employees
    from services.clock import SystemClock

    password = args.password if args.password is not None else _read_password()

    async def work(session: Any) -> int:
        admin = await employees.create_admin(
            session, login=args.login, password=password, now=SystemClock().now()
        )
        print(
            f"admin {args.login!r} created (id {admin.id}); "
            f"log in at http://{settings.http_host}:{settings.http_port}/admin/"
        )
        if admin.invite_code:
            print(
                f"to get unassigned leads in Telegram, open: "
                f"{await _invite_link(settings, admin.invite_code)}"
            )
        return 0

    return await _with_db(settings, work)


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\n")


async def _employee_add(settings: Settings, args: argparse.Namespace) -> int:
    from services import employees
    from services.clock import SystemClock

    async def work(session: Any) -> int:
        new = await employees.add(
            session,
            name=args.name,
            role=Role(args.role),
            now=SystemClock().now(),
            region=settings.default_region,
            telegram_id=args.telegram_id,
            phone=args.phone,
            office=args.office,
            extension=args.extension,
        )
        print(f"employee id: {new.id}")
        if new.invite_code:
            print(f"invite: {await _invite_link(settings, new.invite_code)}")
        return 0

    return await _with_db(settings, work)


async def _employee_schedule(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import time

    from services import employees
    from services.clock import SystemClock
    from services.errors import InvalidInput

    try:
        starts, ends = time.fromisoformat(args.starts), time.fromisoformat(args.ends)
    except ValueError as exc:
        raise InvalidInput("times look like 09:00") from exc
    days = employees.parse_days(args.days)

    async def work(session: Any) -> int:
        await employees.set_schedule(
            session,
            args.employee_id,
            days=days,
            starts_at=starts,
            ends_at=ends,
            now=SystemClock().now(),
        )
        names = ", ".join(employees.WEEKDAYS[d] for d in days)
        print(f"employee {args.employee_id} works {names} {starts:%H:%M}-{ends:%H:%M}")
        return 0

    return await _with_db(settings, work)


async def _line_add(settings: Settings, args: argparse.Namespace) -> int:
    from services import lines
    from services.clock import SystemClock

    async def work(session: Any) -> int:
        line_id = await lines.add(
            session,
            number=args.number,
            name=args.name,
            now=SystemClock().now(),
            region=settings.default_region,
            source=args.source,
            employee_id=args.employee_id,
        )
        print(f"line id: {line_id}")
        return 0

    return await _with_db(settings, work)


async def _invite_link(settings: Settings, code: str) -> str:
    """A t.me deep link when the bot's username can be learned; else the /start command."""
    fallback = f'send "/start {code}" to the bot'
    if not settings.telegram_bot_token:
        return fallback + " (set TELEGRAM_BOT_TOKEN to get a t.me link)"
    from bot.telegram.factory import make_bot

    bot = make_bot(settings.telegram_bot_token, settings.telegram_api_base)
    try:
        me = await bot.get_me(request_timeout=10)
        return f"https://t.me/{me.username}?start={code}"
    except Exception as exc:
        log.warning("could not ask Telegram for the bot's username: %s", exc)
        return fallback
    finally:
        await bot.session.close()


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    import migrations
    from app import ROLES, CannotListen, Container, serve

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
    from services import employees

    s = container.settings
    async with container.db.unit_of_work() as session:
        has_admin = await employees.has_admin(session)
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


if __name__ == "__main__":
    sys.exit(main())
