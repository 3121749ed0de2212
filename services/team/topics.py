"""A client's forum topic in the team inbox, kept in step with the client's history.

Whatever a topic shows changes through one kind of outbox row, a *step* (`TEAM_SYNC`), addressed
to "<group>/<topic>" (services.outbox.chat_of): the steps of one topic go one at a time and in
order, other topics' steps do not wait for them, and all share the group's rate limits. A step
does the first thing the topic needs (bot.telegram.team_steps):

1. no thread (new, or found deleted): create the topic, post the card, pin it;
2. no card (someone deleted it): post and pin a fresh one;
3. messages of the client not shown yet: post the next part (short client texts that waited
   together go as one message; anything else one at a time);
4. the card or the topic's name is out of date: edit them in place;
5. nothing: the row is settled without a call.

What a step did comes back as facts (`settled`), recorded with the row's result; if there is
more to do, the next step is queued. An event (a message, a lead or owner change) queues a step
only when none is waiting already: a burst of messages costs a few steps, not one each, and
what waited is shown together. Topics are never written to from a transaction directly, so a
deleted topic, a closed one, a lost connection or a killed process loses nothing: the rows
and messages are in the database, and the next step takes up where the last one ended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Channel,
    Client,
    Conversation,
    Employee,
    Lead,
    MessageCopy,
    OutboxMessage,
    OutboxStatus,
    TeamShown,
    TeamTopic,
)
from models.db import insert_ignoring_conflicts
from services import outbox
from services.team.inboxes import pick, scopes

TEAM_SYNC = "team_sync"


def recipient(chat_id: int, topic_id: int) -> str:
    return f"{chat_id}/{topic_id}"


async def clients_changed(session: AsyncSession, client_ids: list[int], *, now: datetime) -> int:
    """Something the clients' topics show changed (a message, a lead, an owner, a deal):
    queue a step for each (opening a topic for a client who has none in their inbox yet).
    Returns the steps queued. Nothing at all when no inbox is bound."""
    inboxes = await scopes(session)
    if not inboxes or not client_ids:
        return 0
    chats = {
        client_id: chat
        for client_id, office_id in (await _offices(session, sorted(set(client_ids)))).items()
        if (chat := pick(inboxes, office_id)) is not None
    }
    if not chats:
        return 0
    t = TeamTopic.__table__
    await session.execute(
        insert_ignoring_conflicts(session, t),
        [
            dict(chat_id=chat, client_id=client_id, created_at=now, updated_at=now)
            for client_id, chat in sorted(chats.items())
        ],
    )
    pairs = sorted((chat, client_id) for client_id, chat in chats.items())
    rows = await session.execute(
        sa.select(t.c.id, t.c.chat_id).where(sa.tuple_(t.c.chat_id, t.c.client_id).in_(pairs))
    )
    return await queue_steps(session, [(chat, topic) for topic, chat in rows.all()], now)


async def leads_changed(session: AsyncSession, lead_ids: list[int], *, now: datetime) -> int:
    """`clients_changed` for the leads' clients (one query when no inbox is bound)."""
    if not lead_ids or not await scopes(session):
        return 0
    found = await session.execute(
        sa.select(Lead.client_id).where(Lead.id.in_(sorted(set(lead_ids))))
    )
    return await clients_changed(session, list(found.scalars()), now=now)


async def conversations_changed(
    session: AsyncSession, conversation_ids: list[int], *, now: datetime
) -> int:
    """`clients_changed` for the conversations' clients (one query when no inbox is bound)."""
    if not conversation_ids or not await scopes(session):
        return 0
    found = await session.execute(
        sa.select(Conversation.client_id).where(Conversation.id.in_(sorted(set(conversation_ids))))
    )
    return await clients_changed(session, list(found.scalars()), now=now)


async def topic_changed(session: AsyncSession, topic_id: int, *, now: datetime) -> int:
    chat_id = await session.scalar(sa.select(TeamTopic.chat_id).where(TeamTopic.id == topic_id))
    return 0 if chat_id is None else await queue_steps(session, [(chat_id, topic_id)], now)


async def queue_steps(session: AsyncSession, topics: list[tuple[int, int]], now: datetime) -> int:
    """A step for each (chat, topic) that has none waiting (one being sent does not count:
    it may have read the topic before this change). Steps speak the inbox's language."""
    if not topics:
        return 0
    o = OutboxMessage.__table__
    wanted = {recipient(chat, topic): (chat, topic) for chat, topic in topics}
    look = sa.select(o.c.recipient).where(
        o.c.channel == Channel.TELEGRAM,
        o.c.recipient.in_(sorted(wanted)),
        o.c.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)),
        o.c.kind == TEAM_SYNC,
    )
    if session.get_bind().dialect.name == "postgresql":
        # A waiting step stays waiting until this transaction commits (the pump skips locked
        # rows), so it cannot be claimed and read the topic before this change is visible; one
        # claimed meanwhile is re-checked after the lock, found sending, and a new step queued.
        # (in one order, so two changes to the same topics never wait for each other in turn)
        look = look.order_by(o.c.recipient, o.c.id).with_for_update(of=o)
    waiting = set((await session.execute(look)).scalars())
    rows = [
        outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=address,
            kind=TEAM_SYNC,
            payload={"topic_id": topic},
            entity=("team_topic", topic),
        )
        for address, (_chat, topic) in sorted(wanted.items())
        if address not in waiting
    ]
    await outbox.enqueue_many(session, rows, now=now)
    return len(rows)


async def _offices(session: AsyncSession, client_ids: list[int]) -> dict[int, int | None]:
    """Each client's office: their newest lead's, else their own, else their owner's."""
    newest_lead_office = (
        sa.select(Lead.office_id)
        .where(Lead.client_id == Client.id)
        .order_by(Lead.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            Client.id, sa.func.coalesce(newest_lead_office, Client.office_id, Employee.office_id)
        )
        .outerjoin(Employee, Employee.id == Client.owner_id)
        .where(Client.id.in_(client_ids))
    )
    return {client_id: office for client_id, office in (await session.execute(stmt)).all()}


# --- what a step did


async def settled(
    session: AsyncSession,
    row: outbox.Claimed,
    *,
    result: str,
    facts: dict[str, Any],
    now: datetime,
) -> None:
    """Record what a step did (in the transaction that records its result), and queue the
    next one while there is more to do."""
    if row.kind != TEAM_SYNC:
        return
    topic_id = int(row.payload["topic_id"])
    if result == "dead" and row.attempts > 1:
        # It failed for a while (events meanwhile queued nothing): the next step takes over.
        # (One refused at once, a bot removed from the group, waits for the next event.)
        await queue_steps(session, [(int(outbox.chat_of(row.recipient)), topic_id)], now)
        return
    if result != "sent" or not facts:
        return
    t = TeamTopic.__table__
    values = {
        k: facts[k] for k in ("thread_id", "name", "card_message_id", "card_hash") if k in facts
    }
    if facts.get("opened"):
        values["opened_at"] = now
    if values:
        await session.execute(
            sa.update(t).where(t.c.id == topic_id).values(updated_at=now, **values)
        )
    if shown := facts.get("shown"):
        await mark_shown(session, topic_id, [int(i) for i in shown])
    chat_id = int(outbox.chat_of(row.recipient))
    copies = [
        dict(chat_id=chat_id, telegram_message_id=int(tg_id), message_id=int(message_id))
        for message_id, tg_id in facts.get("copies") or []
    ]
    if copies:
        await session.execute(insert_ignoring_conflicts(session, MessageCopy.__table__), copies)
    if facts.get("more"):
        await queue_steps(session, [(chat_id, topic_id)], now)


async def mark_shown(session: AsyncSession, topic_id: int, message_ids: list[int]) -> None:
    if message_ids:
        await session.execute(
            insert_ignoring_conflicts(session, TeamShown.__table__),
            [dict(topic_id=topic_id, message_id=i) for i in sorted(set(message_ids))],
        )


async def inbox_of(session: AsyncSession, client_id: int) -> int | None:
    """The chat of the client's team inbox now (None: none is bound for them)."""
    inboxes = await scopes(session)
    offices = await _offices(session, [client_id]) if inboxes else {}
    return pick(inboxes, offices.get(client_id)) if inboxes else None


async def of_thread(session: AsyncSession, chat_id: int, thread_id: int) -> TeamTopic | None:
    """The client topic a message typed in the group's thread belongs to."""
    return await session.scalar(
        sa.select(TeamTopic).where(TeamTopic.chat_id == chat_id, TeamTopic.thread_id == thread_id)
    )
