"""`crm lead assign` and `crm job …`: handing out a lead, running a scheduled job now."""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import company, with_db
from config.settings import Settings


def register(sub: Any) -> None:
    lead = sub.add_parser("lead", help="work with leads").add_subparsers(title="actions")
    assign = lead.add_parser("assign", help="give a new lead (e.g. from the queue) to someone")
    assign.add_argument("lead_id", type=int)
    assign.add_argument("--employee", type=int, required=True, help="employee id")
    assign.set_defaults(func=_lead_assign)
    task = sub.add_parser("task", help="work with tasks").add_subparsers(title="actions")
    add = task.add_parser(
        "add", help="set a task for an employee (the due time in free text, as in the bot)"
    )
    add.add_argument("--employee", type=int, required=True, help="employee id")
    add.add_argument("--title", required=True, help="what is to be done")
    add.add_argument(
        "--due", required=True, help='e.g. "завтра в 15:00", "через 2 часа", "fri 10am"'
    )
    add.add_argument("--client-phone", help="the client the task is about, by phone")
    add.add_argument("--warn", type=int, help="an earlier warning, minutes before the due time")
    add.set_defaults(func=_task_add)
    job = sub.add_parser("job", help="scheduled jobs").add_subparsers(title="actions")
    job.add_parser("list", help="the jobs and how often they run").set_defaults(func=_job_list)
    run = job.add_parser("run", help="run one job now, once")
    run.add_argument("name")
    run.set_defaults(func=_job_run)


async def _lead_assign(settings: Settings, args: argparse.Namespace) -> int:
    from services import leads

    async def work(session: Any) -> int:
        done = await leads.assign(
            session, args.lead_id, to=args.employee, by=None, company=company(settings)
        )
        print(f"lead {done.lead_id} is {done.employee_name}'s (employee {done.employee_id})")
        return 0

    return await with_db(settings, work)


async def _task_add(settings: Settings, args: argparse.Namespace) -> int:
    from models import Channel, Employee
    from services import tasks
    from services.clients import matching
    from services.clients.identities import normalize_phone
    from services.errors import InvalidInput, NotFound
    from services.when import Understood, parse_when

    here = company(settings)
    zone = here.timezone
    when = parse_when(args.due, here.clock.now(), zone)
    if not isinstance(when, Understood):
        raise InvalidInput(_unclear(args.due, when, zone))

    async def work(session: Any) -> int:
        client_id = None
        if args.client_phone:
            phone = normalize_phone(args.client_phone, here.region)
            found = await matching.find(session, [(Channel.PHONE, phone)])
            if found is None:
                raise NotFound(f"no client has the phone {args.client_phone}")
            client_id = found.id
        task = await tasks.create(
            session,
            title=args.title,
            due_at=when.at,
            assignee_id=args.employee,
            by=None,
            company=here,
            client_id=client_id,
            warn_minutes=args.warn,
        )
        employee = await session.get(Employee, task.assignee_id)
        local = when.at.astimezone(zone)
        print(
            f"task {task.id} for {employee.name} (employee {employee.id}): due "
            f"{local:%a %d.%m.%Y %H:%M} {zone.key}"
            + (" (no time given: the start of the working day)" if when.assumed_time else "")
        )
        return 0

    return await with_db(settings, work)


def _unclear(text: str, unclear: Any, zone: Any) -> str:
    from services.when import Reason

    if unclear.reason is Reason.AMBIGUOUS and unclear.options:
        readings = " or ".join(f"{o.astimezone(zone):%d.%m.%Y %H:%M}" for o in unclear.options)
        return f"--due {text!r} can mean {readings} ({zone.key}): write the one you mean in full"
    return {
        Reason.EMPTY: "--due is empty",
        Reason.TOO_LONG: f"--due is too long: write just the time, e.g. {'пт 10:00'!r}",
        Reason.INVALID: f"--due {text!r}: there is no such date or time",
        Reason.PAST: f"--due {text!r} has passed",
    }.get(
        unclear.reason,
        f"cannot read the time {text!r}; write e.g. 'завтра в 15:00', 'через 2 часа', "
        "'fri 10am', '25.12 9:30'",
    )


async def _job_list(_settings: Settings, _args: argparse.Namespace) -> int:
    from scheduler.jobs import JOBS

    for job in JOBS:
        print(f"{job.name}  every {job.every.total_seconds():g} s  {job.description}")
    return 0


async def _job_run(settings: Settings, args: argparse.Namespace) -> int:
    import migrations
    from models.db import Database
    from scheduler import jobs

    job = jobs.by_name(args.name)
    await migrations.upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    try:
        print(f"{job.name}: {await jobs.run(job, db, company(settings))}")
    finally:
        await db.dispose()
    return 0
