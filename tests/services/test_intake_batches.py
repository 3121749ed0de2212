"""Concurrent deliveries share a unit of work; each still gets exactly its own outcome."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from models import Client, Lead, OutboxMessage
from services.errors import InvalidInput
from services.leads import intake
from services.leads.inputs import LeadIn
from services.leads.intake import Incoming
from tests import factories
from webhooks.batching import intake_batcher


def incoming(phone: str | None, event: str | None = None, **fields: str) -> Incoming:
    lead = LeadIn(source="form:tilda", phone=phone, **fields)
    return Incoming(lead, ("form:tilda", event) if event else None)


async def test_one_batch_with_repeats_new_people_returning_ones_and_bad_input(
    session, company, clock
):
    anna = await factories.employee(session, clock, name="Анна")
    boris = await factories.employee(session, clock, name="Борис")
    known = await intake.register_incoming(
        session, LeadIn(source="call", phone="+79120009999"), company=company
    )
    batch = [
        incoming("+79120001111", "t1"),
        incoming("8 912 000-11-11", "t2"),  # the same new person again
        incoming("+79120001111", "t1"),  # Tilda's retry of t1 inside the same batch
        incoming(None, "t3", comment="no contact"),  # bad input
        incoming("89120009999", "t4"),  # a returning client
        incoming("+79120002222", "t5"),
    ]
    results = await intake.register_many(session, batch, company=company)
    first, again, repeat, bad, returning, other = results
    assert isinstance(bad, InvalidInput)
    assert repeat.duplicate and not first.duplicate
    assert first.client_id == again.client_id and (first.returning, again.returning) == (
        False,
        True,
    )
    assert first.assignee_id == again.assignee_id
    assert returning.client_id == known.client_id and returning.returning
    assert returning.assignee_id == known.assignee_id
    assert other.assignee_id != first.assignee_id  # took the next turn
    assert {first.assignee_id, other.assignee_id} == {anna.id, boris.id}
    assert await factories.count(session, Client) == 3
    assert await factories.count(session, Lead) == 5
    cards = (await session.execute(sa.select(OutboxMessage.payload))).scalars().all()
    assert sorted(c["lead_id"] for c in cards) == sorted(
        r.lead_id for r in (known, first, again, returning, other)
    )


async def test_concurrent_posts_through_the_batcher(db, company, clock):
    async with db.unit_of_work() as s:
        await factories.employee(s, clock)
    batcher = intake_batcher(db, company)
    try:
        same_delivery = [incoming("+79120001111", "same") for _ in range(10)]
        same_person = [incoming("8(912)000-22-22", f"p{i}") for i in range(10)]
        invalid = [incoming(None, "bad")]
        outcomes = await asyncio.gather(
            *(batcher.submit(i) for i in same_delivery + same_person + invalid),
            return_exceptions=True,
        )
    finally:
        await batcher.close()
    first_ten, next_ten, [bad] = outcomes[:10], outcomes[10:20], outcomes[20:]
    assert sum(not r.duplicate for r in first_ten) == 1
    assert len({r.client_id for r in next_ten}) == 1
    assert isinstance(bad, InvalidInput)
    async with db.unit_of_work() as s:
        assert await factories.count(s, Lead) == 11
        assert await factories.count(s, Client) == 2
        assert await factories.count(s, OutboxMessage) == 11


async def test_a_batch_that_fails_in_the_database_is_retried_one_by_one(db, company, clock):
    async with db.unit_of_work() as s:
        await factories.employee(s, clock)
    batcher = intake_batcher(db, company)
    # NaN is not JSON: PostgreSQL's JSONB refuses the whole statement (SQLite stores it).
    broken = Incoming(LeadIn(source="form:site", phone="+79120004444", extra={"x": float("nan")}))
    try:
        results = await asyncio.gather(
            batcher.submit(incoming("+79120003333", "ok")),
            batcher.submit(broken),
            return_exceptions=True,
        )
    finally:
        await batcher.close()
    good, bad = results
    assert not isinstance(good, BaseException) and good.lead_id is not None
    async with db.unit_of_work() as s:
        phones = set((await s.execute(sa.select(Lead.phone))).scalars())
    if db.is_sqlite:
        assert phones == {"+79120003333", "+79120004444"}
    else:
        assert isinstance(bad, Exception)
        assert phones == {"+79120003333"}


async def test_nul_characters_are_dropped_not_fatal(session, company, clock):
    await factories.employee(session, clock)
    lead = LeadIn(
        source="form:site", phone="+79120001111", name="Ив\x00ан", extra={"note\x00": "a\x00b"}
    )
    result = await intake.register_incoming(session, lead, company=company)
    row = await session.get(Lead, result.lead_id)
    assert (row.name, row.extra) == ("Иван", {"note": "ab"})


@pytest.mark.parametrize("n", [1, 5])
async def test_round_robin_gives_new_people_turns_within_a_batch(session, company, clock, n):
    people = [await factories.employee(session, clock, name=f"E{i}") for i in range(n)]
    batch = [incoming(f"+7912000{i:04d}", f"e{i}") for i in range(2 * n)]
    results = await intake.register_many(session, batch, company=company)
    counts = {p.id: sum(r.assignee_id == p.id for r in results) for p in people}
    assert set(counts.values()) == {2}
