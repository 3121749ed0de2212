"""Deleting clients in bulk (services.bulk.deleting): a client goes with everything that hangs
on it, found by the schema's foreign keys: the cards merged into it, its phones, e-mails, tags
and contact persons, its leads, deals (with their stage moves), calls, conversations (with
their messages), tickets (with their replies), tasks, notes, team topics, merges. All of it
goes into the operation's trash in one transaction and comes back with undo (services.bulk.
trash: a phone or chat a new client took meanwhile stays with that client)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Base, Call, Client, Conversation, Deal, Lead, Task, Ticket
from services.bulk import trash
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


def tables() -> list[sa.Table]:
    """The tables a client's subtree spans, parents first (the schema's own order)."""
    return [table for table in Base.metadata.sorted_tables if table.name in OWNED]


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


async def take(
    session: AsyncSession, op_id: int, chosen: list[int]
) -> tuple[Counter[str], Counter[int]]:
    """Everything of the chosen clients into the trash, children first; what went (by the
    texts' kinds) and how many clients of each owner."""
    ids: dict[str, set[int]] = {"clients": await _with_merged(session, chosen)}
    found: dict[str, list[dict[str, Any]]] = {}
    for table in tables():
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        key = [c.name for c in table.primary_key.columns]
        if table.name == "clients":
            links = [("id", "clients")]
        else:
            links = [
                (fk.parent.name, fk.column.table.name)
                for fk in table.foreign_keys
                if fk.column.table.name in ids and fk.column.table is not table
            ]
        for column, parent in links:
            for chunk in trash.chunks(sorted(ids[parent])):
                for row in await trash.rows(session, table, table.c[column].in_(chunk)):
                    rows[tuple(row[k] for k in key)] = row
        found[table.name] = list(rows.values())
        if "id" in table.c:
            ids[table.name] = {row["id"] for row in found[table.name]}
    for table in reversed(tables()):
        await trash.put_in(session, op_id, table, found[table.name])
    counts = Counter({COUNTED[n]: len(rows) for n, rows in found.items() if n in COUNTED})
    people = [row for row in found["clients"] if row["merged_into_id"] is None]
    counts["client"] = len(people)  # a card merged into one of them is the same person
    owners = Counter(row["owner_id"] for row in people if row["owner_id"] is not None)
    return counts, owners


async def _with_merged(session: AsyncSession, chosen: list[int]) -> set[int]:
    """The chosen clients and the cards merged into them (they are the same people)."""
    clients, frontier = set(chosen), set(chosen)
    while frontier:
        more: set[int] = set()
        for chunk in trash.chunks(sorted(frontier)):
            more |= set(
                await session.scalars(sa.select(_C.c.id).where(_C.c.merged_into_id.in_(chunk)))
            )
        frontier = more - clients
        clients |= frontier
    return clients
