"""Merging duplicate clients and undoing the merge: everything moves, undo restores exactly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

import models
from models import (
    Call,
    Client,
    ClientMerge,
    ClientTag,
    Employee,
    Lead,
    Note,
    Role,
)
from services import audit
from services.actors import Actor
from services.clients import merge as merging
from services.clients import search
from services.errors import AccessDenied, Conflict, NotFound
from tests import factories
from tests.client_history import client_with_history, snapshot


@pytest.fixture
async def people(session, clock) -> dict[str, Actor]:
    made = {
        "vera": await factories.employee(
            session, clock, name="Вера", office="Москва", role=Role.MANAGER
        ),
        "kazan": await factories.employee(
            session, clock, name="Карина", office="Казань", role=Role.MANAGER
        ),
        "anna": await factories.employee(session, clock, name="Анна", office="Москва"),
        "admin": await factories.employee(session, clock, name="Админ", role=Role.ADMIN),
    }
    return {key: Actor.of(e) for key, e in made.items()}


@pytest.fixture
async def pair(session, people) -> tuple[int, int]:
    """Two Moscow clients that are one person: the survivor has no company yet."""
    anna = await session.get(Employee, people["anna"].id)
    office = anna.office_id
    survivor = await client_with_history(
        session, name="Иван Петров", office_id=office, owner=anna, tags=("vip", "опт")
    )
    merged = await client_with_history(
        session,
        name="иван петров",
        office_id=office,
        owner=None,
        company="ООО Ёлка",
        tags=("vip", "сайт"),
    )
    return survivor, merged


async def test_merge_moves_everything_and_undo_restores_both_exactly(
    session, company, clock, people, pair
):
    survivor, merged = pair
    before = {cid: await snapshot(session, cid) for cid in pair}

    done = await merging.merge(session, survivor, merged, by=people["vera"], company=company)

    after = await snapshot(session, merged)
    assert all(not after[name] for name in merging.MOVES)
    assert [t["tag"] for t in after["client_tags"]] == ["vip"]  # both had it: stays on both
    assert after["client"][0]["merged_into_id"] == survivor
    kept = await snapshot(session, survivor)
    for name in merging.MOVES:
        assert len(kept[name]) == len(before[survivor][name]) + len(before[merged][name]), name
    assert len(kept["messages"]) == 2
    assert sorted(t["tag"] for t in kept["client_tags"]) == ["vip", "опт", "сайт"]
    assert kept["client"][0]["company"] == "ООО Ёлка"  # empty on the survivor: filled
    assert kept["client"][0]["name"] == "Иван Петров"  # the survivor's own value wins
    assert kept["client"][0]["search_text"] == (
        f"иван петров ооо елка {before[survivor]['contact_persons'][0]['name'].casefold()} "
        f"{before[merged]['contact_persons'][0]['name'].casefold()}"
    )
    assert done.moved["leads"] == 1 and done.filled == ("company",)
    assert [f.client_id for f in await search.search(session, "иван", by=people["vera"])] == [
        survivor
    ]

    clock.advance(hours=23)
    undone = await merging.undo(session, done.merge_id, by=people["vera"], company=company)

    assert {cid: await snapshot(session, cid) for cid in pair} == before
    assert undone.gone == {}
    record = await session.get(ClientMerge, done.merge_id)
    assert record.undone_at == clock.now()


async def test_what_happened_between_merge_and_undo_is_kept(session, company, people, pair):
    survivor, merged = pair
    done = await merging.merge(session, survivor, merged, by=people["vera"], company=company)
    moved = await session.get(ClientMerge, done.merge_id)
    new_lead = Lead(client_id=survivor, source="call")
    session.add_all([new_lead, ClientTag(client_id=survivor, tag="новый")])
    await session.execute(sa.delete(Note).where(Note.id == moved.moved["notes"][0]))
    elsewhere = await client_with_history(session, name="Пётр", office_id=None, owner=None)
    call_id = moved.moved["calls"][0]
    await session.execute(sa.update(Call).where(Call.id == call_id).values(client_id=elsewhere))
    await session.flush()

    undone = await merging.undo(session, done.merge_id, by=people["vera"], company=company)

    assert undone.gone == {"notes": 1, "calls": 1}
    assert await session.scalar(sa.select(Call.client_id).where(Call.id == call_id)) == elsewhere
    assert await session.scalar(sa.select(Lead.client_id).where(Lead.id == new_lead.id)) == survivor
    tags = await session.scalars(sa.select(ClientTag.tag).where(ClientTag.client_id == survivor))
    assert sorted(tags) == ["vip", "новый", "опт"]
    notes = await session.scalars(sa.select(Note.id).where(Note.client_id == merged))
    assert list(notes) == []
    leads = await session.scalars(sa.select(Lead.id).where(Lead.client_id == merged))
    assert list(leads) == moved.moved["leads"]


async def test_a_field_edited_after_the_merge_keeps_the_edit_on_undo(
    session, company, people, pair
):
    survivor, merged = pair
    done = await merging.merge(session, survivor, merged, by=people["vera"], company=company)
    await session.execute(
        sa.update(Client).where(Client.id == survivor).values(company="ИП Петров")
    )
    await merging.undo(session, done.merge_id, by=people["vera"], company=company)
    assert await session.scalar(sa.select(Client.company).where(Client.id == survivor)) == (
        "ИП Петров"
    )


async def test_undo_after_24_hours_is_refused_and_changes_nothing(
    session, company, clock, people, pair
):
    survivor, merged = pair
    done = await merging.merge(session, survivor, merged, by=people["admin"], company=company)
    clock.advance(hours=24, seconds=1)
    merged_state = await snapshot(session, merged)
    with pytest.raises(Conflict) as refused:
        await merging.undo(session, done.merge_id, by=people["admin"], company=company)
    assert refused.value.key == "merge.error.undo_expired"
    assert await snapshot(session, merged) == merged_state


async def test_a_second_undo_is_refused(session, company, people, pair):
    survivor, merged = pair
    done = await merging.merge(session, survivor, merged, by=people["vera"], company=company)
    await merging.undo(session, done.merge_id, by=people["vera"], company=company)
    with pytest.raises(Conflict) as refused:
        await merging.undo(session, done.merge_id, by=people["vera"], company=company)
    assert refused.value.key == "merge.error.already_undone"


async def test_undo_waits_for_a_later_merge_of_the_survivor_to_be_undone(
    session, company, people, pair
):
    survivor, merged = pair
    third = await client_with_history(session, name="Пётр", office_id=None, owner=None)
    first = await merging.merge(session, survivor, merged, by=people["admin"], company=company)
    second = await merging.merge(session, third, survivor, by=people["admin"], company=company)
    with pytest.raises(Conflict) as refused:
        await merging.undo(session, first.merge_id, by=people["admin"], company=company)
    assert refused.value.key == "merge.error.undo_later_first"
    await merging.undo(session, second.merge_id, by=people["admin"], company=company)
    await merging.undo(session, first.merge_id, by=people["admin"], company=company)
    leads = await session.scalars(sa.select(Lead.client_id).order_by(Lead.id))
    assert list(leads) == [survivor, merged, third]


@pytest.mark.parametrize(
    ("who", "key"), [("anna", "merge.error.no_access"), ("kazan", "merge.error.no_access")]
)
async def test_an_employee_and_another_offices_manager_may_not_merge(
    session, company, people, pair, who, key
):
    survivor, merged = pair
    state = {cid: await snapshot(session, cid) for cid in pair}
    with pytest.raises(AccessDenied) as refused:
        await merging.merge(session, survivor, merged, by=people[who], company=company)
    assert refused.value.key == key
    assert {cid: await snapshot(session, cid) for cid in pair} == state


async def test_an_employee_and_another_offices_manager_may_not_undo(session, company, people, pair):
    done = await merging.merge(session, *pair, by=people["vera"], company=company)
    for who in ("anna", "kazan"):
        with pytest.raises(AccessDenied):
            await merging.undo(session, done.merge_id, by=people[who], company=company)
    record = await session.get(ClientMerge, done.merge_id)
    assert record.undone_at is None


async def test_a_client_into_itself_or_into_a_merged_client_is_refused(
    session, company, people, pair
):
    survivor, merged = pair
    with pytest.raises(Conflict) as itself:
        await merging.merge(session, survivor, survivor, by=people["vera"], company=company)
    assert itself.value.key == "merge.error.same_client"
    await merging.merge(session, survivor, merged, by=people["vera"], company=company)
    third = await client_with_history(session, name="Пётр", office_id=None, owner=None)
    for into, away in ((merged, third), (third, merged)):
        with pytest.raises(Conflict) as refused:
            await merging.merge(session, into, away, by=people["admin"], company=company)
        assert refused.value.key == "merge.error.already_merged"


async def test_an_unknown_merge_or_client_is_not_found(session, company, people, pair):
    with pytest.raises(NotFound):
        await merging.undo(session, 999_999, by=people["admin"], company=company)
    with pytest.raises(NotFound):
        await merging.merge(session, pair[0], 999_999, by=people["admin"], company=company)


async def test_merge_and_undo_are_in_both_clients_audit_history(
    session, company, clock, people, pair
):
    survivor, merged = pair
    done = await merging.merge(session, survivor, merged, by=people["vera"], company=company)
    clock.advance(minutes=5)
    await merging.undo(session, done.merge_id, by=people["vera"], company=company)

    kept = await audit.history(session, "client", survivor)
    assert [e.action for e in kept] == ["client.merge_undone", "client.merge"]
    assert {e.actor_name for e in kept} == {"Вера"}
    assert kept[1].data["merged_id"] == merged
    assert kept[1].data["changes"] == {"company": [None, "ООО Ёлка"]} | {
        "search_text": kept[1].data["changes"]["search_text"]
    }
    assert kept[0].at - kept[1].at == timedelta(minutes=5)
    gone = await audit.history(session, "client", merged)
    assert [e.action for e in gone] == ["client.merge_undone", "client.merged_into"]
    older = await audit.history(session, "client", survivor, before_id=kept[0].id)
    assert [e.action for e in older] == ["client.merge"]


def test_merge_knows_every_table_that_points_at_a_client():
    """A new table or column referring to clients must be taught to merge (or excused)."""
    pointing = {
        (table.name, fk.parent.name)
        for table in models.Base.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == "clients"
    }
    known = {(name, "client_id") for name in [*merging.MOVES, merging.TAGS]}
    assert pointing == known | set(merging.NOT_MOVED)


async def test_two_managers_merging_one_pair_both_ways_at_once_merge_it_once(
    db, company, clock, pair_in_db
):
    """PostgreSQL runs the two at once (SQLite writes one at a time): the second waits for
    the first's lock, then finds its client merged."""
    survivor, merged, admin = pair_in_db

    async def attempt(into: int, away: int) -> str:
        try:
            async with db.unit_of_work() as s:
                await merging.merge(s, into, away, by=admin, company=company)
        except Conflict as refused:
            return refused.key
        return "merged"

    results = await asyncio.gather(attempt(survivor, merged), attempt(merged, survivor))
    assert sorted(results) == ["merge.error.already_merged", "merged"]
    async with db.unit_of_work() as s:
        assert await factories.count(s, ClientMerge) == 1


async def test_two_presses_of_undo_at_once_undo_once(db, company, clock, pair_in_db):
    survivor, merged, admin = pair_in_db
    async with db.unit_of_work() as s:
        done = await merging.merge(s, survivor, merged, by=admin, company=company)

    async def attempt() -> str:
        try:
            async with db.unit_of_work() as s:
                await merging.undo(s, done.merge_id, by=admin, company=company)
        except Conflict as refused:
            return refused.key
        return "undone"

    results = await asyncio.gather(attempt(), attempt())
    assert sorted(results) == ["merge.error.already_undone", "undone"]
    async with db.unit_of_work() as s:
        audited = await audit.history(s, "client", merged)
    assert [e.action for e in audited] == ["client.merge_undone", "client.merged_into"]


@pytest.fixture
async def pair_in_db(db, clock) -> tuple[int, int, Actor]:
    if db.is_sqlite:
        pytest.skip("SQLite runs one writer at a time: no race to lose")
    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        survivor = await client_with_history(s, name="Иван", office_id=None, owner=None)
        merged = await client_with_history(s, name="Иван", office_id=None, owner=None)
        return survivor, merged, Actor.of(admin)
