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
    _admin_parsers(sub)
    employee = sub.add_parser("employee", help="manage employees").add_subparsers(title="actions")
    add = employee.add_parser("add", help="add an employee; prints the id and an invite link")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--telegram-id", type=int)
    add.add_argument("--phone")
    add.add_argument("--office", help="office name (created if new)")
    add.add_argument("--extension", help="PBX extension, so calls find the employee")
    add.set_defaults(func=_employee_add)
    schedule = employee.add_parser(
        "schedule", help="set (replace), --add to, --show or --clear an employee's shifts"
    )
    schedule.add_argument("employee_id", type=int)
    schedule.add_argument("--days", help="e.g. mon-fri or sat,sun")
    schedule.add_argument("--from", dest="starts", help="H:MM, office time")
    schedule.add_argument(
        "--to", dest="ends", help="H:MM (before --from: overnight; equal: 24 h; 24:00: midnight)"
    )
    schedule.add_argument("--all-day", action="store_true", help="00:00-24:00")
    mode = schedule.add_mutually_exclusive_group()
    mode.add_argument("--add", action="store_true", help="add these shifts to the others")
    mode.add_argument("--show", action="store_true", help="print the shifts")
    mode.add_argument("--clear", action="store_true", help="remove all shifts (always on duty)")
    schedule.set_defaults(func=_employee_schedule)
    _people_commands(sub, employee)
    line = sub.add_parser("line", help="manage phone lines").add_subparsers(title="actions")
    add_line = line.add_parser("add", help="add a phone line (a named lead source)")
    add_line.add_argument("--number", required=True)
    add_line.add_argument("--name", required=True)
    add_line.add_argument("--source", help="what the reports call it, e.g. yandex-direct")
    add_line.add_argument("--employee-id", type=int, help="whose phone rings on this line")
    add_line.set_defaults(func=_line_add)
    return parser


def _admin_parsers(sub: Any) -> None:
    admin = sub.add_parser("admin", help="help an admin who cannot sign in")
    actions = admin.add_subparsers(title="actions")
    unlock = actions.add_parser("unlock", help="clear the login's sign-in throttling")
    unlock.add_argument("login")
    unlock.set_defaults(func=_admin_unlock)
    reset = actions.add_parser(
        "reset-password", help="set a new password and end the login's web sessions"
    )
    reset.add_argument("login")
    reset.add_argument("--password", help="read from stdin when omitted")
    reset.set_defaults(func=_admin_reset_password)


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
    from services import admins
    from services.clock import SystemClock

    password = args.password if args.password is not None else _read_password()

    async def work(session: Any) -> int:
        admin = await admins.create_admin(
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


async def _admin_unlock(settings: Settings, args: argparse.Namespace) -> int:
    from services import web_sessions
    from services.clock import SystemClock

    async def work(session: Any) -> int:
        await web_sessions.unlock(session, login=args.login, now=SystemClock().now())
        print(f"{args.login!r} may sign in again at once")
        return 0

    return await _with_db(settings, work)


async def _admin_reset_password(settings: Settings, args: argparse.Namespace) -> int:
    from services import web_sessions
    from services.clock import SystemClock

    password = args.password if args.password is not None else _read_password()

    async def work(session: Any) -> int:
        ended = await web_sessions.reset_password(
            session, login=args.login, password=password, now=SystemClock().now()
        )
        print(f"password of {args.login!r} changed; {ended} web session(s) ended")
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
    from services import schedules
    from services.clock import SystemClock

    shifts = None if args.show or args.clear else _shifts_from(args)

    async def work(session: Any) -> int:
        now = SystemClock().now()
        if args.clear:
            await schedules.clear(session, args.employee_id, now=now)
        elif shifts is not None:
            write = schedules.add if args.add else schedules.replace
            await write(session, args.employee_id, shifts, now=now)
            print(f"employee {args.employee_id} works {_shift_summary(shifts)}")
        _print_schedule(await schedules.show(session, args.employee_id), args)
        return 0

    return await _with_db(settings, work)


def _shifts_from(args: argparse.Namespace) -> list[Any]:
    from services import schedules
    from services.errors import InvalidInput

    if not args.days or not (args.all_day or (args.starts and args.ends)):
        raise InvalidInput("give --days and --from/--to (or --all-day), or --show or --clear")
    starts = schedules.parse_time("00:00" if args.all_day else args.starts)
    ends = schedules.parse_time("24:00" if args.all_day else args.ends, end=True)
    return schedules.shifts_for(schedules.parse_days(args.days), starts, ends)


def _shift_summary(shifts: list[Any]) -> str:
    days = ", ".join(str(s).split()[0] for s in shifts)
    return f"{days} {str(shifts[0]).split()[1]}" if shifts else "no shifts"


def _print_schedule(shifts: list[Any], args: argparse.Namespace) -> None:
    if args.show or args.add or args.clear:
        if not shifts:
            print(f"employee {args.employee_id} has no shifts: on duty at any time (when on shift)")
        for shift in shifts:
            print(shift)


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


def _people_commands(sub: Any, employee: Any) -> None:
    """Employees beyond adding them, the lead queue, and the scheduled jobs."""
    employee.add_parser("list", help="every employee, and who is on duty now").set_defaults(
        func=_employee_list
    )
    edit = employee.add_parser("edit", help='change an employee ("" clears a field)')
    edit.add_argument("employee_id", type=int)
    edit.add_argument("--name")
    edit.add_argument("--role", choices=[r.value for r in Role])
    edit.add_argument("--phone")
    edit.add_argument("--extension")
    edit.add_argument("--office")
    edit.add_argument("--telegram-id", type=int)
    edit.set_defaults(func=_employee_edit)
    for action, active in (("activate", True), ("deactivate", False)):
        toggle = employee.add_parser(
            action, help="give new leads again" if active else "no new leads; untaken ones return"
        )
        toggle.add_argument("employee_id", type=int)
        toggle.set_defaults(func=_employee_set_active, active=active)
    lead = sub.add_parser("lead", help="work with leads").add_subparsers(title="actions")
    assign = lead.add_parser("assign", help="give a new lead (e.g. from the queue) to someone")
    assign.add_argument("lead_id", type=int)
    assign.add_argument("--employee", type=int, required=True, help="employee id")
    assign.set_defaults(func=_lead_assign)
    job = sub.add_parser("job", help="scheduled jobs").add_subparsers(title="actions")
    job.add_parser("list", help="the jobs and how often they run").set_defaults(func=_job_list)
    run = job.add_parser("run", help="run one job now, once")
    run.add_argument("name")
    run.set_defaults(func=_job_run)


def _company(settings: Settings) -> Any:
    from services.context import Company

    return Company(
        timezone=settings.tz,
        region=settings.default_region,
        locale=settings.locale,
        currency=settings.currency,
    )


async def _employee_list(settings: Settings, _args: argparse.Namespace) -> int:
    from services import employees

    async def work(session: Any) -> int:
        company = _company(settings)
        rows = await employees.roster(session, now=company.clock.now(), timezone=company.timezone)
        yes = {True: "yes", False: "no"}
        table = [("id", "name", "role", "office", "telegram", "ext", "active", "on duty")]
        table += [
            (
                str(r.id),
                r.name,
                r.role.value,
                r.office or "-",
                yes[r.telegram_bound],
                r.extension or "-",
                yes[r.active],
                yes[r.on_duty],
            )
            for r in rows
        ]
        widths = [max(len(row[n]) for row in table) for n in range(len(table[0]))]
        for row in table:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        return 0

    return await _with_db(settings, work)


async def _employee_edit(settings: Settings, args: argparse.Namespace) -> int:
    from services import employees
    from services.errors import InvalidInput

    changes = employees.Changes(
        name=args.name,
        role=Role(args.role) if args.role else None,
        phone=args.phone,
        extension=args.extension,
        office=args.office,
        telegram_id=args.telegram_id,
    )
    if changes == employees.Changes():
        raise InvalidInput("nothing to change: give --name, --role, --phone, --extension, …")

    async def work(session: Any) -> int:
        done = await employees.edit(session, args.employee_id, changes, company=_company(settings))
        print(f"employee {done.id} updated")
        return 0

    return await _with_db(settings, work)


async def _employee_set_active(settings: Settings, args: argparse.Namespace) -> int:
    from services import employees

    async def work(session: Any) -> int:
        done = await employees.set_active(
            session, args.employee_id, args.active, company=_company(settings)
        )
        print(
            f"employee {done.id} ({done.name}) is {'active' if done.is_active else 'deactivated'}"
        )
        return 0

    return await _with_db(settings, work)


async def _lead_assign(settings: Settings, args: argparse.Namespace) -> int:
    from services import leads

    async def work(session: Any) -> int:
        done = await leads.assign(
            session, args.lead_id, to=args.employee, by=None, company=_company(settings)
        )
        print(f"lead {done.lead_id} is {done.employee_name}'s (employee {done.employee_id})")
        return 0

    return await _with_db(settings, work)


async def _job_list(_settings: Settings, _args: argparse.Namespace) -> int:
    from scheduler.jobs import JOBS

    for job in JOBS:
        print(f"{job.name}  every {job.every.total_seconds():g} s  {job.description}")
    return 0


async def _job_run(settings: Settings, args: argparse.Namespace) -> int:
    from scheduler import jobs

    job = jobs.by_name(args.name)

    async def work(session: Any) -> int:
        print(f"{job.name}: {await job.work(session, _company(settings))}")
        return 0

    return await _with_db(settings, work)


if __name__ == "__main__":
    sys.exit(main())
