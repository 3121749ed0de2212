"""The scheduler ticks the jobs of scheduler/jobs.py without losing a run."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from models import AuditEntry
from scheduler import jobs, runner
from scheduler.jobs import Job
from services import audit


async def test_every_job_runs_at_start_in_its_own_unit_of_work_and_is_never_dropped_as_late(
    db, company
):
    ran = asyncio.Event()

    async def work(session, company) -> str:
        await audit.log(
            session, action="probe", entity_type="job", entity_id=None, at=company.clock.now()
        )
        ran.set()
        return "done"

    probe = Job("probe", timedelta(hours=1), "a test job", work)
    scheduler = runner.start(db, company, (probe,))
    try:
        await asyncio.wait_for(ran.wait(), timeout=30)  # at start-up, not an hour later
        job = scheduler.get_job("probe")
        # APScheduler's defaults drop a run more than 1 s late and stack missed runs.
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
    finally:
        scheduler.shutdown(wait=False)
    for _ in range(100):  # its unit of work commits right after the work returns
        async with db.unit_of_work() as s:
            if (await s.execute(sa.select(AuditEntry.action))).scalars().all() == ["probe"]:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the job's work was not committed")


def test_the_product_has_the_queue_job_and_names_are_unique() -> None:
    names = [job.name for job in jobs.JOBS]
    assert "hand_out_queue" in names and len(names) == len(set(names))
