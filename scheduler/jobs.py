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
from services import conversations, escalations, reports, tasks
from services.bulk import trash
from services.context import Company
from services.errors import NotFound
from services.leads import queue as lead_queue

log = logging.getLogger(__name__)


class More(str):
    """What a run did, when it stopped at a full batch: the job runs again at once, in a new
    unit of work (so one tick's work is several short transactions, each committed)."""


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


async def fire_reminders(session: AsyncSession, company: Company) -> str:
    fired = await tasks.fire_due(session, company)
    summary = f"{fired.count} reminders fired"
    return More(summary) if fired.more else summary


async def send_digests(session: AsyncSession, company: Company) -> str:
    sent = await reports.digests.send_due(session, company)
    return f"{sent.written} daily digests written, {sent.waiting} employees' time not come yet"


async def escalate(session: AsyncSession, company: Company) -> str:
    written = await escalations.run(session, company)
    return f"{written} escalations written"


async def roll_up_reports(session: AsyncSession, company: Company) -> str:
    zones = await reports.rollup.zones(session, company.timezone)
    built, more = await reports.rollup.prepare(session, zones, company.clock.now())
    summary = f"{built} report months rolled up"
    return More(summary) if more else summary


async def forget_early_statuses(session: AsyncSession, company: Company) -> str:
    gone = await conversations.forget_early_statuses(session, now=company.clock.now())
    return f"{gone} early delivery statuses forgotten"


async def empty_bulk_trash(session: AsyncSession, company: Company) -> str:
    gone, more = await trash.empty(session, now=company.clock.now())
    summary = f"{gone} rows of bulk deletes past their undo forgotten"
    return More(summary) if more else summary


JOBS: tuple[Job, ...] = (
    Job(
        "fire_reminders",
        timedelta(seconds=5),
        "send the task reminders (and warnings) that are due, each once",
        fire_reminders,
    ),
    Job(
        "hand_out_queue",
        timedelta(minutes=1),
        "give leads waiting in the queue to whoever is on duty now",
        hand_out_queue,
    ),
    Job(
        "send_digests",
        timedelta(minutes=1),
        "write each employee's daily digest once DIGEST_TIME has come in their zone (once a day)",
        send_digests,
    ),
    Job(
        "escalate",
        timedelta(minutes=1),
        "tell office managers of overdue tasks, unanswered leads and tickets, stuck deals (once)",
        escalate,
    ),
    Job(
        "roll_up_reports",
        timedelta(minutes=1),
        "count the last year's settled months (and those whose old facts changed) for reports",
        roll_up_reports,
    ),
    Job(
        "forget_early_statuses",
        timedelta(hours=6),
        "forget delivery statuses of messages never recorded (our notices, a week on)",
        forget_early_statuses,
    ),
    Job(
        "empty_bulk_trash",
        timedelta(hours=1),
        "forget for good what bulk deletes took out, once their 24 hours of undo have passed",
        empty_bulk_trash,
    ),
)


def by_name(name: str, jobs: tuple[Job, ...] = JOBS) -> Job:
    for job in jobs:
        if job.name == name:
            return job
    known = ", ".join(j.name for j in jobs)
    raise NotFound(f"no job {name!r}; the jobs are: {known}")


async def run(job: Job, db: Database, company: Company) -> str:
    """One run of a job in its own unit of work (its outbox rows are sent after commit), and
    another at once while it says there is more."""
    while True:
        async with db.unit_of_work() as session:
            summary = await job.work(session, company)
        if not isinstance(summary, More):
            return summary
