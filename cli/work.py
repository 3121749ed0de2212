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


async def _job_list(_settings: Settings, _args: argparse.Namespace) -> int:
    from scheduler.jobs import JOBS

    for job in JOBS:
        print(f"{job.name}  every {job.every.total_seconds():g} s  {job.description}")
    return 0


async def _job_run(settings: Settings, args: argparse.Namespace) -> int:
    from scheduler import jobs

    job = jobs.by_name(args.name)

    async def work(session: Any) -> int:
        print(f"{job.name}: {await job.work(session, company(settings))}")
        return 0

    return await with_db(settings, work)
