"""Clients: one person is one client, found by any of the addresses they use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, ChannelIdentity, Client, ClientKind
from models.db import insert_ignoring_conflicts

Identity = tuple[Channel, str]
# When several clients match, the strongest identity decides whose history this is.
_PRECEDENCE = {Channel.PHONE: 0, Channel.WHATSAPP: 1, Channel.TELEGRAM: 2, Channel.EMAIL: 3}


@dataclass(frozen=True)
class ResolvedClient:
    id: int
    created: bool
    owner_id: int | None
    office_id: int | None
    name: str | None


async def resolve_or_create(
    session: AsyncSession,
    identities: list[Identity],
    *,
    name: str | None,
    now: datetime,
    kind: ClientKind = ClientKind.PERSON,
) -> ResolvedClient:
    """Find the client behind any of `identities`, or create one; attach the new identities.

    A concurrent request creating the same person is caught by the unique
    (channel, address) constraint inside a savepoint, and the lookup re-run.
    """
    found, known = await _find(session, identities)
    if found is None and identities:
        try:
            async with session.begin_nested():
                return await _create(session, identities, name=name, now=now, kind=kind)
        except IntegrityError:
            found, known = await _find(session, identities)
    if found is None:
        return await _create(session, identities, name=name, now=now, kind=kind)
    await _attach(session, found.id, [i for i in identities if i not in known], now=now)
    if name and not found.name:
        await session.execute(
            sa.update(Client).where(Client.id == found.id).values(name=name, updated_at=now)
        )
    return ResolvedClient(found.id, False, found.owner_id, found.office_id, found.name or name)


async def _find(
    session: AsyncSession, identities: list[Identity]
) -> tuple[ResolvedClient | None, set[Identity]]:
    if not identities:
        return None, set()
    ci, c = ChannelIdentity.__table__, Client.__table__
    stmt = (
        sa.select(
            ci.c.channel,
            ci.c.address,
            c.c.id,
            c.c.owner_id,
            c.c.office_id,
            c.c.name,
            c.c.merged_into_id,
        )
        .join(c, c.c.id == ci.c.client_id)
        .where(sa.tuple_(ci.c.channel, ci.c.address).in_(identities))
    )
    rows = sorted((await session.execute(stmt)).all(), key=lambda r: _PRECEDENCE[r.channel])
    if not rows:
        return None, set()
    known = {(r.channel, r.address) for r in rows}
    row = rows[0]
    if row.merged_into_id is not None:
        return await _by_id(session, row.merged_into_id), known
    return ResolvedClient(row.id, False, row.owner_id, row.office_id, row.name), known


async def _by_id(session: AsyncSession, client_id: int) -> ResolvedClient:
    c = Client.__table__
    stmt = sa.select(c.c.id, c.c.owner_id, c.c.office_id, c.c.name, c.c.merged_into_id).where(
        c.c.id == client_id
    )
    row = (await session.execute(stmt)).one()
    if row.merged_into_id is not None:
        return await _by_id(session, row.merged_into_id)
    return ResolvedClient(row.id, False, row.owner_id, row.office_id, row.name)


async def _create(
    session: AsyncSession,
    identities: list[Identity],
    *,
    name: str | None,
    now: datetime,
    kind: ClientKind,
) -> ResolvedClient:
    stmt = sa.insert(Client).values(kind=kind, name=name, created_at=now, updated_at=now)
    client_id = (await session.execute(stmt.returning(Client.id))).scalar_one()
    if identities:
        await session.execute(
            sa.insert(ChannelIdentity),
            [
                dict(client_id=client_id, channel=ch, address=addr, created_at=now, updated_at=now)
                for ch, addr in identities
            ],
        )
    return ResolvedClient(client_id, True, None, None, name)


async def _attach(
    session: AsyncSession, client_id: int, identities: list[Identity], *, now: datetime
) -> None:
    # Addresses already known (for this or another client) are left as they are.
    stmt = insert_ignoring_conflicts(session, ChannelIdentity.__table__)
    for channel, address in identities:
        await session.execute(
            stmt.values(
                client_id=client_id,
                channel=channel,
                address=address,
                created_at=now,
                updated_at=now,
            )
        )


async def set_owner_if_unowned(
    session: AsyncSession, client_id: int, owner_id: int, *, now: datetime
) -> None:
    await session.execute(
        sa.update(Client)
        .where(Client.id == client_id, Client.owner_id.is_(None))
        .values(owner_id=owner_id, updated_at=now)
    )
