"""`crm employee …` and `crm line add`: the staff, their shifts, and the phone lines that
ring them."""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import company, invite_link, with_db
from config.settings import Settings
from models import Role


def register(sub: Any) -> None:
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
    plan = sub.add_parser("plan", help="monthly sales plans").add_subparsers(title="actions")
    set_plan = plan.add_parser("set", help="an employee's plan for a month (replaces it)")
    set_plan.add_argument("employee_id", type=int)
    set_plan.add_argument("month", help="YYYY-MM")
    set_plan.add_argument("amount", help="in the company's currency, e.g. 1500000")
    set_plan.set_defaults(func=_plan_set)
    list_plans = plan.add_parser("list", help="the month's plans")
    list_plans.add_argument("month", help="YYYY-MM")
    list_plans.set_defaults(func=_plan_list)
    line = sub.add_parser("line", help="manage phone lines").add_subparsers(title="actions")
    add_line = line.add_parser("add", help="add a phone line (a named lead source)")
    add_line.add_argument("--number", required=True)
    add_line.add_argument("--name", required=True)
    add_line.add_argument("--source", help="what the reports call it, e.g. yandex-direct")
    add_line.add_argument("--employee-id", type=int, help="whose phone rings on this line")
    add_line.set_defaults(func=_line_add)


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
            print(f"invite: {await invite_link(settings, new.invite_code)}")
        return 0

    return await with_db(settings, work)


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

    return await with_db(settings, work)


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

    return await with_db(settings, work)


async def _employee_list(settings: Settings, _args: argparse.Namespace) -> int:
    from services import employees

    async def work(session: Any) -> int:
        here = company(settings)
        rows = await employees.roster(session, now=here.clock.now(), timezone=here.timezone)
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

    return await with_db(settings, work)


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
        done = await employees.edit(session, args.employee_id, changes, company=company(settings))
        print(f"employee {done.id} updated")
        return 0

    return await with_db(settings, work)


async def _employee_set_active(settings: Settings, args: argparse.Namespace) -> int:
    from services import employees

    async def work(session: Any) -> int:
        done = await employees.set_active(
            session, args.employee_id, args.active, company=company(settings)
        )
        print(
            f"employee {done.id} ({done.name}) is {'active' if done.is_active else 'deactivated'}"
        )
        return 0

    return await with_db(settings, work)


async def _plan_set(settings: Settings, args: argparse.Namespace) -> int:
    from services.reports import plans

    month, amount = plans.month_of(args.month), plans.amount_of(args.amount)
    firm = company(settings)

    async def work(session: Any) -> int:
        await plans.set_plan(session, args.employee_id, month, amount, now=firm.clock.now())
        print(f"plan of employee {args.employee_id} for {month:%Y-%m}: {amount}")
        return 0

    return await with_db(settings, work)


async def _plan_list(settings: Settings, args: argparse.Namespace) -> int:
    from services.reports import plans

    month = plans.month_of(args.month)

    async def work(session: Any) -> int:
        found = await plans.of_month(session, month)
        for name, amount in found:
            print(f"{name}\t{amount}")
        if not found:
            print(f"no plans for {month:%Y-%m}")
        return 0

    return await with_db(settings, work)
