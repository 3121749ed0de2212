"""APScheduler ticking the jobs of scheduler.jobs in the running event loop.

APScheduler's defaults lose work: a run more than 1 s late (a busy loop, a slow start) is
skipped as "misfired", and missed runs pile up when not coalesced. Our jobs are idempotent
ticks over rows with due times, so a late run is always worth doing, and one run does the work
of all the missed ones: no misfire limit, coalesce, never two runs of a job at once here (other
processes are kept apart by the database claims in each job). The first run is at start-up, so
a restart hands out what waited while the process was down.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from models.db import Database
from scheduler.jobs import JOBS, Job, run
from services.context import Company

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


def make_scheduler(
    db: Database, company: Company, jobs: tuple[Job, ...] = JOBS
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=company.timezone, job_defaults=JOB_DEFAULTS)
    for job in jobs:
        scheduler.add_job(
            _fire,
            IntervalTrigger(seconds=job.every.total_seconds(), timezone=company.timezone),
            args=(job, db, company),
            id=job.name,
            name=job.name,
            next_run_time=datetime.now(company.timezone),
        )
    return scheduler


def start(db: Database, company: Company, jobs: tuple[Job, ...] = JOBS) -> AsyncIOScheduler:
    """Start ticking (call inside the running event loop); `shutdown()` it on the way out."""
    scheduler = make_scheduler(db, company, jobs)
    scheduler.start()
    names = ", ".join(f"{j.name} every {j.every.total_seconds():g} s" for j in jobs)
    log.info("scheduler: %s", names)
    return scheduler


async def _fire(job: Job, db: Database, company: Company) -> None:
    try:
        summary = await run(job, db, company)
    except Exception:
        log.exception("job %s failed; it runs again at its next tick", job.name)
        return
    log.debug("job %s: %s", job.name, summary)
