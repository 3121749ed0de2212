"""Deleting clients in bulk, for any shape of clients: some merged into others (in chains),
chats with replies to earlier messages, several leads and tasks. Whatever subset is chosen,
the chosen people (with the cards merged into them) are gone with everything of theirs, the
rest is untouched, and undo gives back every row of everyone, column for column."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Client, Conversation, Direction, Message, Task
from services import bulk
from services.actors import Actor
from services.clients import lists as client_lists
from tests.client_history import client_with_history, snapshot
from tests.services.test_bulk import team  # noqa: F401

SHAPES = st.lists(
    st.tuples(
        st.none() | st.integers(0, 3),  # merged into the client at this index (an earlier one)
        st.integers(0, 3),  # replies in its chat, each to the message before
        st.integers(0, 2),  # more tasks
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shapes=SHAPES, data=st.data())
async def test_any_chosen_clients_go_whole_and_come_back_row_for_row(
    session,
    clock,
    company,
    team,  # noqa: F811  (the fixture, imported)
    shapes,
    data,
):
    admin, anna, _boris, _vera = team
    nested = await session.begin_nested()
    try:
        ids = [
            await client_with_history(session, name=f"Клиент {i}", office_id=None, owner=anna)
            for i in range(len(shapes))
        ]
        for i, (merged_into, replies, tasks) in enumerate(shapes):
            if merged_into is not None and merged_into < i:
                await session.execute(
                    sa.update(Client)
                    .where(Client.id == ids[i])
                    .values(merged_into_id=ids[merged_into])
                )
            await _more(session, ids[i], replies, tasks)
        before = {c: await snapshot(session, c) for c in ids}
        chosen = data.draw(st.sets(st.sampled_from(ids), min_size=1), label="chosen")
        by, shown = Actor.of(admin), client_lists.ClientFilter(ids=tuple(sorted(chosen)))
        plan = await bulk.plan_delete(session, shown, by=by)
        if plan.count == 0:  # only merged cards chosen: the list does not show them
            return
        op_id = await bulk.delete(session, shown, expected=plan.count, by=by, company=company)
        gone = await _with_merged(session, before, ids, chosen)
        for c in ids:
            now = await snapshot(session, c)
            if c in gone:
                assert all(rows == [] for rows in now.values()), c
            else:
                assert now == before[c], c
        await bulk.undo(session, op_id, by=by, company=company)
        for c in ids:
            assert await snapshot(session, c) == before[c], c
    finally:
        await nested.rollback()


async def _more(session, client_id: int, replies: int, tasks: int) -> None:
    chat = await session.scalar(
        sa.select(Conversation.id).where(Conversation.client_id == client_id)
    )
    last = await session.scalar(
        sa.select(Message.id).where(Message.conversation_id == chat).order_by(Message.id.desc())
    )
    for n in range(replies):
        reply = Message(
            conversation_id=chat,
            channel=(await session.get(Conversation, chat)).channel,
            direction=Direction.OUT,
            text=f"Ответ {n}",
            reply_to_id=last,
        )
        session.add(reply)
        await session.flush()
        last = reply.id
    session.add_all(Task(client_id=client_id, title=f"Ещё {n}") for n in range(tasks))
    await session.flush()


async def _with_merged(session, before, ids: list[int], chosen: set[int]) -> set[int]:
    """The chosen people that the list shows (not merged cards), with the cards merged into
    them, in chains."""
    merged_into = {c: before[c]["client"][0]["merged_into_id"] for c in ids}
    gone = {c for c in chosen if merged_into[c] is None}
    grew = True
    while grew:
        more = {c for c in ids if merged_into[c] in gone} - gone
        gone |= more
        grew = bool(more)
    return gone
