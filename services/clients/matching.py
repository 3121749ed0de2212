"""Clients: one person is one client, found by any of the addresses they use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, ChannelIdentity, Client, ClientKind, Employee
from models.db import insert_ignoring_conflicts
from models.text import fold

Identity = tuple[Channel, str]
# When several clients match, the strongest identity decides whose history this is.
_PRECEDENCE = {Channel.PHONE: 0, Channel.WHATSAPP: 1, Channel.TELEGRAM: 2, Channel.EMAIL: 3}


SEARCH_TEXT_LIMIT = 1000  # Client.search_text's column width
# ... and its bytes in UTF-8: PostgreSQL's owner index carries the text (migration 0015), and a
# B-tree entry must stay under about 2.7 kB. Russian and English text never reach it (two
# bytes a character at most); a text of four-byte characters is cut shorter.
SEARCH_TEXT_BYTES = 2000


def searchable(text: str) -> str:
    """How /find compares words: case-folded, ё as е, single spaces (SQLite's lower() knows no
    Cyrillic, so the folding is done here, once, for both the stored text and the query)."""
    return fold(text)


def search_text_of(
    name: str | None, company: str | None = None, contact_names: Iterable[str | None] = ()
) -> str | None:
    """`Client.search_text` for a client with these names: every service that creates a client
    or changes its name, company or contact persons stores this."""
    parts = [searchable(p) for p in (name, company, *contact_names) if p]
    text = " ".join(p for p in parts if p)[:SEARCH_TEXT_LIMIT]
    encoded = text.encode()
    if len(encoded) > SEARCH_TEXT_BYTES:
        text = encoded[:SEARCH_TEXT_BYTES].decode(errors="ignore")
    return text or None


@dataclass(frozen=True)
class Owner:
    """The client's owner, if still active: who a returning client goes to."""

    id: int
    office_id: int | None
    telegram_id: int | None
    locale: str | None


@dataclass(frozen=True)
class ResolvedClient:
    id: int
    created: bool
    owner: Owner | None
    office_id: int | None
    name: str | None
    known: frozenset[Identity] = frozenset()  # the given identities already on record


async def find(session: AsyncSession, identities: list[Identity]) -> ResolvedClient | None:
    """The client behind any of `identities` (following merges), or None."""
    return best_match(await find_many(session, identities), identities)


async def find_many(
    session: AsyncSession, identities: list[Identity]
) -> dict[Identity, ResolvedClient]:
    """Each known identity among `identities` with its client (merges followed)."""
    if not identities:
        return {}
    ci, c, e = ChannelIdentity.__table__, Client.__table__, Employee.__table__
    stmt = (
        sa.select(
            ci.c.channel,
            ci.c.address,
            c.c.id,
            c.c.office_id,
            c.c.name,
            c.c.merged_into_id,
            *_owner_columns(e),
        )
        .join(c, c.c.id == ci.c.client_id)
        .outerjoin(e, sa.and_(e.c.id == c.c.owner_id, e.c.is_active))
        .where(_any_of(ci, identities))
    )
    rows = (await session.execute(stmt)).all()
    by_client: dict[int, set[Identity]] = {}
    for row in rows:
        by_client.setdefault(row.id, set()).add((row.channel, row.address))
    found: dict[Identity, ResolvedClient] = {}
    for row in rows:
        known = frozenset(by_client[row.id])
        if row.merged_into_id is not None:
            found[(row.channel, row.address)] = await _by_id(session, row.merged_into_id, known)
        else:
            found[(row.channel, row.address)] = _resolved(row, known)
    return found


def _any_of(ci: sa.Table, identities: list[Identity]) -> sa.ColumnElement[bool]:
    """The identities as one `address IN (…)` per channel, not an OR of (channel, address)
    pairs: PostgreSQL hashes a long IN list, so a thousand addresses cost one probe a row even
    when the table is scanned (an import into a nearly empty CRM, before its statistics catch
    up), where the pairs were compared one by one (about 8× slower: bench/admin.py)."""
    by_channel: dict[Channel, set[str]] = {}
    for channel, address in identities:
        by_channel.setdefault(channel, set()).add(address)
    return sa.or_(
        *(
            sa.and_(ci.c.channel == channel, ci.c.address.in_(sorted(addresses)))
            for channel, addresses in by_channel.items()
        )
    )


def _owner_columns(e: sa.Table) -> list[sa.ColumnElement[object]]:
    """What a returning client's card and assignment need to know about the owner."""
    return [
        e.c.id.label("owner_id"),
        e.c.office_id.label("owner_office"),
        e.c.telegram_id,
        e.c.locale,
    ]


def best_match(
    found: dict[Identity, ResolvedClient], identities: list[Identity]
) -> ResolvedClient | None:
    """When identities point at different clients, the strongest channel decides."""
    matches = sorted((i for i in identities if i in found), key=lambda i: _PRECEDENCE.get(i[0], 9))
    return found[matches[0]] if matches else None


def _resolved(row: sa.Row, known: frozenset[Identity]) -> ResolvedClient:
    owner = None
    if row.owner_id is not None:
        owner = Owner(row.owner_id, row.owner_office, row.telegram_id, row.locale)
    return ResolvedClient(row.id, False, owner, row.office_id, row.name, known)


async def _by_id(
    session: AsyncSession, client_id: int, known: frozenset[Identity]
) -> ResolvedClient:
    c, e = Client.__table__, Employee.__table__
    stmt = (
        sa.select(
            c.c.id,
            c.c.office_id,
            c.c.name,
            c.c.merged_into_id,
            *_owner_columns(e),
        )
        .outerjoin(e, sa.and_(e.c.id == c.c.owner_id, e.c.is_active))
        .where(c.c.id == client_id)
    )
    row = (await session.execute(stmt)).one()
    if row.merged_into_id is not None:
        return await _by_id(session, row.merged_into_id, known)
    return _resolved(row, known)


@dataclass(frozen=True)
class NewClient:
    identities: list[Identity]
    name: str | None
    owner_id: int | None


async def create_many(
    session: AsyncSession, people: list[NewClient], *, now: datetime
) -> list[ResolvedClient]:
    """New clients with their identities, two statements for any number of them.

    If another transaction registered one of a person's identities meanwhile (the unique
    (channel, address) constraint says so), that new row is dropped and the client who holds
    the identity is returned instead, with this person's other addresses attached.
    """
    if not people:
        return []
    stmt = sa.insert(Client.__table__).returning(Client.id, sort_by_parameter_order=True)
    rows = [
        dict(
            kind=ClientKind.PERSON,
            name=p.name,
            search_text=search_text_of(p.name),
            owner_id=p.owner_id,
            merged_into_id=None,
            office_id=None,
            created_at=now,
            updated_at=now,
        )
        for p in people
    ]
    ids = list((await session.execute(stmt, rows)).scalars())
    wanted = [
        (cid, ch, addr) for cid, p in zip(ids, people, strict=True) for ch, addr in p.identities
    ]
    inserted = await _insert_identities(session, wanted, now=now)
    result = []
    for client_id, person in zip(ids, people, strict=True):
        mine = {(client_id, ch, addr) for ch, addr in person.identities}
        if mine <= inserted:
            result.append(ResolvedClient(client_id, True, None, None, person.name))
        else:
            result.append(await _lost_race(session, client_id, person, now))
    return result


async def _lost_race(
    session: AsyncSession, client_id: int, person: NewClient, now: datetime
) -> ResolvedClient:
    await session.execute(sa.delete(Client).where(Client.id == client_id))
    winner = await find(session, person.identities)
    assert winner is not None, "an identity conflicted but no client holds it"
    await update_seen(
        session, winner, person.identities, name=person.name, now=now, owner_id=person.owner_id
    )
    return winner


@dataclass(frozen=True)
class Seen:
    """A returning client met again, with what this contact said about them."""

    client: ResolvedClient
    identities: list[Identity]
    name: str | None
    owner_id: int | None = None


async def update_seen(
    session: AsyncSession,
    client: ResolvedClient,
    identities: list[Identity],
    *,
    name: str | None,
    now: datetime,
    owner_id: int | None = None,
) -> None:
    await update_seen_many(session, [Seen(client, identities, name, owner_id)], now=now)


async def update_seen_many(session: AsyncSession, seen: list[Seen], *, now: datetime) -> None:
    """Returning clients: attach addresses not yet on record, fill in a missing name and
    owner (first contact wins). Two statements for any number of clients."""
    attach = {
        (s.client.id, ch, addr)
        for s in seen
        for ch, addr in s.identities
        if (ch, addr) not in s.client.known
    }
    await _insert_identities(session, sorted(attach), now=now)
    updates: dict[int, dict[str, object]] = {}
    for s in seen:
        values = updates.setdefault(s.client.id, {"cid": s.client.id, "name": None, "owner": None})
        if s.name and not s.client.name and values["name"] is None:
            values["name"] = s.name
        if s.owner_id is not None and s.client.owner is None and values["owner"] is None:
            values["owner"] = s.owner_id
    rows = [v for v in updates.values() if v["name"] is not None or v["owner"] is not None]
    for row in rows:
        row["st"] = search_text_of(str(row["name"])) if row["name"] else None
    if rows:
        c = Client.__table__
        st = sa.bindparam("st", type_=sa.String)
        named = st + sa.func.coalesce(sa.literal(" ") + c.c.search_text, "")
        pg = session.get_bind().dialect.name == "postgresql"
        stmt = (
            sa.update(c)
            .where(c.c.id == sa.bindparam("cid"))
            .values(
                name=sa.func.coalesce(c.c.name, sa.bindparam("name")),
                # A name filled in now goes before the company and contacts already there.
                search_text=sa.case(
                    (sa.and_(c.c.name.is_(None), st.is_not(None)), _capped(named, pg)),
                    else_=c.c.search_text,
                ),
                owner_id=sa.func.coalesce(c.c.owner_id, sa.bindparam("owner")),
                updated_at=now,
            )
        )
        await session.execute(stmt, rows)


def _capped(text: sa.ColumnElement[str], pg: bool) -> sa.ColumnElement[str]:
    """`text` cut to SEARCH_TEXT_LIMIT characters, in SQL, and to a quarter of
    SEARCH_TEXT_BYTES characters when that is still too long in bytes (which always fits)."""
    cut = sa.func.substr(text, 1, SEARCH_TEXT_LIMIT)
    size = sa.func.octet_length(cut) if pg else sa.func.length(sa.cast(cut, sa.LargeBinary))
    return sa.case(
        (size <= SEARCH_TEXT_BYTES, cut),
        else_=sa.func.substr(text, 1, SEARCH_TEXT_BYTES // 4),
    )


async def resolve_or_create(
    session: AsyncSession,
    identities: list[Identity],
    *,
    name: str | None,
    now: datetime,
    owner_id: int | None = None,
) -> ResolvedClient:
    found = await find(session, identities)
    if found is None:
        [created] = await create_many(session, [NewClient(identities, name, owner_id)], now=now)
        return created
    await update_seen(session, found, identities, name=name, now=now, owner_id=owner_id)
    return found


async def _insert_identities(
    session: AsyncSession, rows: list[tuple[int, Channel, str]], *, now: datetime
) -> set[tuple[int, Channel, str]]:
    """Insert (client_id, channel, address) rows; those already taken are left as they are."""
    if not rows:
        return set()
    ci = ChannelIdentity.__table__
    stmt = insert_ignoring_conflicts(session, ci).returning(
        ci.c.client_id, ci.c.channel, ci.c.address
    )
    params = [
        dict(client_id=cid, channel=ch, address=addr, created_at=now, updated_at=now)
        for cid, ch, addr in rows
    ]
    result = await session.execute(stmt, params)
    return {(r.client_id, r.channel, r.address) for r in result.all()}


async def set_owner_if_unowned(
    session: AsyncSession, client_id: int, owner_id: int, *, now: datetime
) -> None:
    await session.execute(
        sa.update(Client)
        .where(Client.id == client_id, Client.owner_id.is_(None))
        .values(owner_id=owner_id, updated_at=now)
    )
