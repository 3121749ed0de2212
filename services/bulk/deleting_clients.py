"""Deleting clients in bulk (services.bulk.deleting): a client goes with everything that hangs
on it, found by the schema's foreign keys: the cards merged into it, its phones, e-mails, tags
and contact persons, its leads, deals (with their stage moves), calls, conversations (with
their messages), tickets (with their replies), tasks, notes, team topics, merges. All of it
goes into the operation's trash in one transaction and comes back with undo (services.bulk.
trash: a phone or chat a new client took meanwhile stays with that client)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Call, Client, Conversation, Deal, Lead, Task, Ticket
from services.bulk.engine import Chosen

OWNED = (
    "clients",
    "client_merges",
    "client_tags",
    "contact_persons",
    "channel_identities",
    "team_topics",
    "team_shown",
    "leads",
    "deals",
    "deal_stage_changes",
    "calls",
    "conversations",
    "messages",
    "message_copies",
    "tickets",
    "ticket_replies",
    "tasks",
    "notes",
)
# What the texts count (services.bulk.kinds.ORDER), by table.
COUNTED = {
    "clients": "client",
    "leads": "lead",
    "deals": "deal",
    "calls": "call",
    "conversations": "conversation",
    "messages": "message",
    "tickets": "ticket",
    "tasks": "task",
    "notes": "note",
}
_C = Client.__table__


async def plan(session: AsyncSession, chosen: Chosen) -> tuple[int, dict[str, int]]:
    """How many clients, and what of theirs goes with them (counted by their own links)."""
    clients = sa.select(_C.c.id).where(_C.c.id.in_(chosen))
    count = sa.select(sa.func.count())
    columns = [count.select_from(clients.subquery()).scalar_subquery()]
    along = [("lead", Lead), ("deal", Deal), ("call", Call), ("conversation", Conversation)]
    along += [("ticket", Ticket), ("task", Task)]
    for _name, model in along:
        table = model.__table__
        columns.append(
            count.where(table.c.client_id.in_(clients)).select_from(table).scalar_subquery()
        )
    found = (await session.execute(sa.select(*columns))).one()
    return int(found[0]), {name: int(n) for (name, _m), n in zip(along, found[1:], strict=True)}
