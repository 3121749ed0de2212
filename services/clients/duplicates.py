"""Finding a client's duplicate and showing what a merge would move (the steps before
`services.clients.merge.merge`). Every function re-checks that `by` may merge the clients."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import Channel, ChannelIdentity, Client, ClientTag
from services.access import HasRole
from services.clients import search, visibility
from services.clients.merge import MOVES, require_mergeable
from services.errors import Conflict

# A phone known on one channel is the same person on the other (identities are unique per
# channel, so a duplicate shares a number only across channels).
_SAME_NUMBER = {Channel.PHONE: Channel.WHATSAPP, Channel.WHATSAPP: Channel.PHONE}


@dataclass(frozen=True)
class Side:
    client_id: int
    name: str | None
    company: str | None
    phone: str | None  # E.164, the first one
    counts: dict[str, int]  # rows per table (`MOVES` names and "client_tags"); zeros left out


@dataclass(frozen=True)
class Candidates:
    client: search.Found  # the client a duplicate is sought for
    found: list[search.Found]


@dataclass(frozen=True)
class Preview:
    survivor: Side
    merged: Side


async def likely(
    session: AsyncSession, client_id: int, *, by: HasRole, limit: int = 5
) -> Candidates:
    """Clients `by` sees that look like the same person: the same name (case and ё aside) or
    the same number on another channel."""
    client = await require_mergeable(session, client_id, by=by)
    found: dict[int, search.Found] = {}
    for other in await _same_number(session, client_id, by=by, limit=limit):
        found.setdefault(other.client_id, other)
    key = _name_key(client.name)
    if key:
        for other in await search.search(session, client.name or "", by=by, limit=limit * 2):
            if _name_key(other.name) == key:
                found.setdefault(other.client_id, other)
    found.pop(client_id, None)
    return Candidates(await _found(session, client), list(found.values())[:limit])


async def lookup(
    session: AsyncSession, client_id: int, text: str, *, by: HasRole, limit: int = 8
) -> Candidates:
    """What an employee typed to name the duplicate (a phone, name or e-mail): the matching
    clients they could merge into `client_id`."""
    client = await require_mergeable(session, client_id, by=by)
    found = await search.search(session, text, by=by, limit=limit + 1)
    others = [f for f in found if f.client_id != client_id][:limit]
    return Candidates(await _found(session, client), others)


async def preview(
    session: AsyncSession, survivor_id: int, merged_id: int, *, by: HasRole
) -> Preview:
    """Both clients side by side with what each has (the merged one's rows are what moves)."""
    if survivor_id == merged_id:
        raise Conflict("a client cannot be merged into itself", key="merge.error.same_client")
    sides = []
    for client_id in (survivor_id, merged_id):
        client = await require_mergeable(session, client_id, by=by)
        sides.append(
            Side(
                client.id,
                client.name,
                client.company,
                await _phone(session, client.id),
                await _counts(session, client.id),
            )
        )
    return Preview(*sides)


async def _found(session: AsyncSession, client: Client) -> search.Found:
    return search.Found(client.id, client.name, client.company, await _phone(session, client.id))


async def _counts(session: AsyncSession, client_id: int) -> dict[str, int]:
    """Rows per table, in one round trip (each count is on an indexed `client_id`)."""
    counts = {
        name: sa.select(sa.func.count())
        .select_from(model)
        .where(model.client_id == client_id)
        .scalar_subquery()
        for name, model in MOVES.items()
    }
    counts["client_tags"] = (
        sa.select(sa.func.count())
        .select_from(ClientTag)
        .where(ClientTag.client_id == client_id)
        .scalar_subquery()
    )
    row = (await session.execute(sa.select(*(c.label(n) for n, c in counts.items())))).one()
    return {name: value for name, value in row._mapping.items() if value}


async def _phone(session: AsyncSession, client_id: int) -> str | None:
    stmt = (
        sa.select(ChannelIdentity.address)
        .where(
            ChannelIdentity.client_id == client_id,
            ChannelIdentity.channel.in_([Channel.PHONE, Channel.WHATSAPP]),
        )
        .order_by(ChannelIdentity.id)
        .limit(1)
    )
    return await session.scalar(stmt)


async def _same_number(
    session: AsyncSession, client_id: int, *, by: HasRole, limit: int
) -> list[search.Found]:
    mine = aliased(ChannelIdentity)
    pairs = [
        sa.and_(mine.channel == channel, ChannelIdentity.channel == other)
        for channel, other in _SAME_NUMBER.items()
    ]
    stmt = (
        sa.select(Client.id, Client.name, Client.company, ChannelIdentity.address)
        .join(ChannelIdentity, ChannelIdentity.client_id == Client.id)
        .join(mine, mine.address == ChannelIdentity.address)
        .where(mine.client_id == client_id, sa.or_(*pairs), visibility.visible(by))
        .limit(limit)
    )
    rows = (await session.execute(stmt, visibility.params(by))).all()
    return [search.Found(i, name, company, phone) for i, name, company, phone in rows]


def _name_key(name: str | None) -> str:
    return " ".join((name or "").casefold().replace("ё", "е").split())
