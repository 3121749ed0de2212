"""The queue of leads nobody has: handed out once however many processes run the job."""

from __future__ import annotations

import asyncio
from datetime import datetime

import sqlalchemy as sa

from models import Lead, OutboxMessage
from scheduler import jobs
from services import leads
from tests import factories
from tests.conftest import MSK

SUNDAY_NIGHT = datetime(2025, 12, 7, 3, 0, tzinfo=MSK)
MONDAY_9_05 = datetime(2025, 12, 8, 9, 5, tzinfo=MSK)


async def test_the_job_in_two_processes_at_once_hands_each_lead_out_once(db, company, clock):
    async with db.unit_of_work() as s:
        people = [
            await factories.employee(s, clock, name=n, shifts=factories.WEEKDAYS_9_TO_18)
            for n in ("Анна", "Борис")
        ]
        clock.set(SUNDAY_NIGHT)
        for n in range(20):
            lead = leads.LeadIn(source="form:site", phone=f"+791200011{n:02d}")
            assert (await leads.register_incoming(s, lead, company=company)).assignee_id is None
    clock.set(MONDAY_9_05)
    job = jobs.by_name("hand_out_queue")
    # Two schedulers firing the same tick (two hosts), each in its own unit of work.
    await asyncio.gather(*(jobs.run(job, db, company) for _ in range(2)))
    async with db.unit_of_work() as s:
        owners = (await s.execute(sa.select(Lead.assignee_id))).scalars().all()
        cards = (
            (
                await s.execute(
                    sa.select(OutboxMessage.entity_id).where(OutboxMessage.kind == "lead_card")
                )
            )
            .scalars()
            .all()
        )
    assert sorted(set(owners)) == sorted(p.id for p in people)  # both got some: round-robin
    assert sorted(cards) == sorted(set(cards)) and len(cards) == 20  # one card per lead


async def test_nobody_on_duty_leaves_the_queue_as_it_is(db, company, clock):
    async with db.unit_of_work() as s:
        await factories.employee(s, clock, shifts=factories.WEEKDAYS_9_TO_18)
        clock.set(SUNDAY_NIGHT)
        await leads.register_incoming(
            s, leads.LeadIn(source="x", phone="+79120001122"), company=company
        )
    clock.advance(hours=1)
    summary = await jobs.run(jobs.by_name("hand_out_queue"), db, company)
    assert summary == "0 leads handed out, 1 still waiting"
