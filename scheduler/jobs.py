"""The scheduled jobs: the one explicit list of what runs on a timer.

Time is data (reminders, snoozes, digests are rows with due times); a job is a fixed tick that
looks for due rows and acts on them in its own unit of work. Every job must be safe to fire in
several processes at once (`crm run --only scheduler` on two hosts): it claims the rows it
works on in the database, so each row is acted on once. Run one by hand with `crm job run NAME`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models.db import Database
from services.context import Company
from services.errors import NotFound
from services.leads import queue as lead_queue

log = logging.getLogger(__name__)
Work = Callable[[AsyncSession, Company], Awaitable[str]]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    description: str
    work: Work  # returns one line saying what it did


async def hand_out_queue(session: AsyncSession, company: Company) -> str:
    done = await lead_queue.hand_out(session, company)
    if done.given:
        log.info("lead queue: %d handed out, %d still waiting", done.given, done.waiting)
    return f"{done.given} leads handed out, {done.waiting} still waiting"


JOBS: tuple[Job, ...] = (
    Job(
        "hand_out_queue",
        timedelta(minutes=1),
        "give leads waiting in the queue to whoever is on duty now",
        hand_out_queue,
    ),
)


def by_name(name: str, jobs: tuple[Job, ...] = JOBS) -> Job:
    for job in jobs:
        if job.name == name:
            return job
    known = ", ".join(j.name for j in jobs)
    raise NotFound(f"no job {name!r}; the jobs are: {known}")


async def run(job: Job, db: Database, company: Company) -> str:
    """One run of a job in its own unit of work (its outbox rows are sent after commit)."""
    async with db.unit_of_work() as session:
        return await job.work(session, company)
