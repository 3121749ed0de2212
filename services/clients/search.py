"""Finding clients by what an employee types: a phone in any format (or its last digits), an
e-mail, or words of a name, a company or a contact person's name.

What the text is decides how it is matched:
- a whole phone number ("+7 912 000-11-22", "89120001122", "8 (912) 000 11 22"): exactly, on
  the client's phone and WhatsApp identities (normalised to E.164 with the company's region);
- five or more digits that are not a whole number ("0011122"): the end of a phone;
- an e-mail: exactly (normalised);
- anything else: every word must occur in `Client.search_text` (name, company and contact
  persons' names, case-folded, ё as е); of the newest 100 matches, a name that starts with
  the first word comes first, then one with a word starting with it.

Only clients `by` may see (`visibility.visible`), never merged ones; at most `limit`. On
PostgreSQL the substring matches use the trigram indexes of migration 0011.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, ChannelIdentity, Client, ContactPerson
from models.prepared import Prepared, one_of
from services.access import HasRole
from services.clients import visibility
from services.clients.identities import normalize_email, normalize_phone
from services.clients.matching import Identity, searchable
from services.errors import InvalidInput

MAX_TEXT = 200  # characters of a query that are looked at; the rest is ignored
MAX_WORDS = 6
MAX_WORD = 64
MAX_LIMIT = 50
RANKED = 100  # the newest matches of a word search that are ranked for the best ones
TRIGRAM = 3  # a word shorter than this has no trigram of its own
MIN_DIGITS = 5  # fewer digits than this are too vague to be the end of a phone
PHONE_CHANNELS = (Channel.PHONE, Channel.WHATSAPP)

# What a typed phone is made of: digits, a leading "+", spaces, brackets, dashes, dots.
_SEP = r"[\d\s\u00a0()\-.\u2010-\u2015/]*"
_PHONE_LIKE = re.compile(rf"\+?{_SEP}\d{_SEP}", re.ASCII)
# NUL and lone surrogates cannot be stored or sent (PostgreSQL, UTF-8): never part of a query.
_UNSENDABLE = re.compile("[\x00\ud800-\udfff]")


class Kind(enum.StrEnum):
    PHONE = "phone"  # a whole number, E.164
    DIGITS = "digits"  # the end of a phone
    EMAIL = "email"
    WORDS = "words"
    NOTHING = "nothing"  # nothing to look for (empty, punctuation only)


@dataclass(frozen=True)
class Query:
    kind: Kind
    value: str = ""  # E.164, digits or e-mail
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Found:
    client_id: int
    name: str | None
    company: str | None
    phone: str | None  # E.164, the client's first phone
    contact: str | None = None  # the contact person whose name matched, if not the client's


def classify(text: str, region: str = "RU") -> Query:
    """What `text` is: a phone, the end of one, an e-mail or words (see the module doc)."""
    text = _UNSENDABLE.sub("", text)[:MAX_TEXT].strip()
    if _PHONE_LIKE.fullmatch(text):
        digits = re.sub(r"\D", "", text, flags=re.ASCII)
        try:
            return Query(Kind.PHONE, normalize_phone(text, region))
        except InvalidInput:
            if len(digits) >= MIN_DIGITS:
                return Query(Kind.DIGITS, digits[-15:])
    if "@" in text and not any(ch.isspace() for ch in text):
        try:
            return Query(Kind.EMAIL, normalize_email(text))
        except (InvalidInput, ValueError):
            pass
    words = tuple(dict.fromkeys(w[:MAX_WORD] for w in searchable(text).split()))[:MAX_WORDS]
    return Query(Kind.WORDS, words=words) if words else Query(Kind.NOTHING)


async def search(
    session: AsyncSession, text: str, *, by: HasRole, limit: int = 10, region: str = "RU"
) -> list[Found]:
    """The clients `by` may see that match `text`, best first."""
    query = classify(text, region)
    limit = max(1, min(limit, MAX_LIMIT))
    if query.kind is Kind.NOTHING:
        return []
    pg = _is_postgresql(session)
    # An employee's words are looked for among their own clients, a plan that depends on no
    # value; a whole phone or e-mail is one index lookup whatever the plan.
    own = pg and query.kind is Kind.WORDS and visibility.starts_from_own(by)
    if query.kind in (Kind.DIGITS, Kind.WORDS) and pg and not own:
        await _PLAN_FOR_OLTP.all(session)
    if query.kind is Kind.WORDS:
        return await _by_words(session, query.words, by=by, limit=limit, pg=pg, own=own)
    value = _pattern("%", query.value) if query.kind is Kind.DIGITS else query.value
    stmt = _by_identity(visibility.visible(by), query.kind)
    params = visibility.params(by) | {"value": value, "limit": limit}
    return _found(await stmt.all(session, params))


# On PostgreSQL, for this transaction: plan every search with its values in view (a generic
# plan, which asyncpg's prepared statements get after five runs, walks all clients newest
# first hoping for an early match; a custom one uses the trigram index for a rare word). JIT
# is off for every connection (models.db).
_PLAN_FOR_OLTP = Prepared(
    sa.select(sa.func.set_config("plan_cache_mode", "force_custom_plan", True))
)


def _pattern(before: str, value: str, after: str = "") -> str:
    """A LIKE pattern (escape character "/") matching `value` literally."""
    escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return before + escaped + after


@cache  # one per visibility clause and kind (each clause is built once)
def _by_identity(visible: sa.ColumnElement[bool], kind: Kind) -> Prepared:
    """The newest clients `visible` holding a phone (`:value`, E.164), the end of one (a
    pattern) or an e-mail."""
    ci = ChannelIdentity
    value = sa.bindparam("value", type_=sa.String)
    if kind is Kind.EMAIL:
        holding = [ci.channel == Channel.EMAIL, ci.address == value]
    elif kind is Kind.DIGITS:
        holding = [one_of(ci.channel, PHONE_CHANNELS), ci.address.like(value, escape="/")]
    else:
        holding = [one_of(ci.channel, PHONE_CHANNELS), ci.address == value]
    return Prepared(_newest(visible, Client.id.in_(sa.select(ci.client_id).where(*holding))))


def _newest(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Clients matching `where`, newest first, at most `:limit`: id, name, company, phone
    (the first phone, read for the rows returned only)."""
    return (
        sa.select(Client.id, Client.name, Client.company, _first_phone(Client.id))
        .where(*where)
        .order_by(Client.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


async def by_identities(
    session: AsyncSession, identities: Sequence[Identity], *, by: HasRole, limit: int = 10
) -> list[Found]:
    """The clients `by` may see holding any of `identities` (a shared contact's phone and
    Telegram id, a forwarded message's sender)."""
    if not identities:
        return []
    ci = ChannelIdentity
    where = _holding(sa.tuple_(ci.channel, ci.address).in_(list(identities)))
    stmt = _newest(visibility.visible(by), where)
    rows = (await session.execute(stmt, visibility.params(by) | {"limit": limit})).all()
    return _found(rows)


async def anyone_holds(session: AsyncSession, identities: Sequence[Identity]) -> bool:
    """Whether any client at all holds one of `identities` (seen or not by the asker): a new
    client with them could not be created."""
    if not identities:
        return False
    ci = ChannelIdentity
    stmt = sa.select(sa.literal(1)).where(sa.tuple_(ci.channel, ci.address).in_(list(identities)))
    return (await session.scalar(stmt.limit(1))) is not None


@dataclass(frozen=True)
class ContactMatch:
    """What a shared contact or a forwarded message's sender is to the asker."""

    found: list[Found]  # the clients `by` may see holding the contact's addresses
    taken: bool  # nobody seen, but some client holds them: a new one could not be created
    phone: str | None  # the contact's phone, E.164, if valid


async def for_contact(
    session: AsyncSession,
    *,
    phone: str | None,
    telegram_id: int | None,
    by: HasRole,
    region: str = "RU",
) -> ContactMatch:
    """The client behind a Telegram contact (its phone and Telegram account) or a forwarded
    message's sender (`telegram_id` alone)."""
    e164 = None
    if phone:
        try:
            e164 = normalize_phone(
                _UNSENDABLE.sub("", phone)[:MAX_TEXT], region, international=True
            )
        except InvalidInput:
            e164 = None
    identities: list[Identity] = []
    if e164 is not None:
        identities += [(channel, e164) for channel in PHONE_CHANNELS]
    if telegram_id is not None:
        identities.append((Channel.TELEGRAM, str(telegram_id)))
    found = await by_identities(session, identities, by=by)
    taken = not found and await anyone_holds(session, identities)
    return ContactMatch(found, taken, e164)


def _holding(*conditions: Any) -> sa.ColumnElement[bool]:
    return Client.id.in_(sa.select(ChannelIdentity.client_id).where(*conditions))


async def _by_words(
    session: AsyncSession,
    words: tuple[str, ...],
    *,
    by: HasRole,
    limit: int,
    pg: bool,
    own: bool,
) -> list[Found]:
    # An employee's own clients are a few hundred (`own`, PostgreSQL): start from them, read
    # from the owner index, rather than from every client that contains the word.
    shorts = tuple(len(w) < TRIGRAM for w in words)
    ranked = not all(shorts)
    if own:
        stmt = _own_words_statement(len(words), ranked)
    else:
        stmt = _by_words_statement(visibility.visible(by), shorts, ranked, pg)
    params = visibility.params(by) | {"limit": limit, "ranked": RANKED}
    for i, word in enumerate(words):
        params[f"w{i}"], params[f"p{i}"] = word, _pattern("%", word, "%")
    first = words[0]
    params["starts"], params["inside"] = _pattern("", first, "%"), _pattern("% ", first, "%")
    rows = await stmt.all(session, params)
    return await _with_contacts(session, _found(rows), words)


@cache  # one per shape: visibility clause, words tested without an index, ranked, backend
def _by_words_statement(
    visible: sa.ColumnElement[bool], indexless: tuple[bool, ...], ranked: bool, pg: bool
) -> Prepared:
    """Clients `visible` whose search text contains every word (`:w0`…, as LIKE patterns
    `:p0`…), at most `:limit`. On PostgreSQL an `indexless` word is tested with strpos(),
    which no index answers: for a word shorter than a trigram the trigram index would read all
    of itself.

    Only short words ("ив"): the newest matches as they come (a scan that stops at `:limit`;
    no index helps). Otherwise (`ranked`) the best of the newest `:ranked` matches: a search
    text starting with the first word (`:starts`), then one with a word starting with it
    (`:inside`), then the rest, newest first within each. Bounded: a word half the clients
    contain costs a short walk down the newest clients, not a sort of all of them."""
    text = Client.search_text
    where = [visible]
    for i, short in enumerate(indexless):
        if short and pg:
            where.append(sa.func.strpos(text, sa.bindparam(f"w{i}", type_=sa.String)) > 0)
        else:
            where.append(text.like(sa.bindparam(f"p{i}", type_=sa.String), escape="/"))
    return _best_of(sa.select(Client.id, text).where(*where), ranked)


@cache  # one per number of words and ranking
def _own_words_statement(count: int, ranked: bool) -> Prepared:
    """`_by_words_statement` for an employee's own clients (PostgreSQL): each word tested
    with strpos() on the search text the owner index carries (`visibility.own_matching`)."""
    text = Client.search_text
    words = [sa.func.strpos(text, sa.bindparam(f"w{i}", type_=sa.String)) > 0 for i in range(count)]
    return _best_of(visibility.own_matching(*words), ranked)


def _best_of(matching: sa.Select[Any] | sa.CompoundSelect, ranked: bool) -> Prepared:
    """Of the clients `matching` (id, search text): the best `:limit` of the newest
    `:ranked`, by `_rank` (or, not `ranked`, the newest `:limit`), with name, company and
    first phone read from the table for those rows only."""
    found = matching.subquery("matching")
    newest = (
        sa.select(found.c.id, found.c.search_text)
        .order_by(found.c.id.desc())
        .limit(sa.bindparam("ranked" if ranked else "limit", type_=sa.Integer))
        .subquery("newest")
    )
    if ranked:
        rank = _rank(newest.c.search_text)
        best = (
            sa.select(newest.c.id, rank.label("rank"))
            .order_by(rank, newest.c.id.desc())
            .limit(sa.bindparam("limit", type_=sa.Integer))
            .subquery("best")
        )
    else:
        best = sa.select(newest.c.id, sa.literal(0).label("rank")).subquery("best")
    return Prepared(
        sa.select(best.c.id, Client.name, Client.company, _first_phone(best.c.id))
        .join_from(best, Client, Client.id == best.c.id)
        .order_by(best.c.rank, best.c.id.desc())
    )


def _rank(search_text: sa.ColumnElement[str]) -> sa.ColumnElement[int]:
    """0 for a search text starting with the first word (`:starts`), 1 for one with a word
    starting with it (`:inside`), 2 for the rest."""
    return sa.case(
        (search_text.like(sa.bindparam("starts", type_=sa.String), escape="/"), 0),
        (search_text.like(sa.bindparam("inside", type_=sa.String), escape="/"), 1),
        else_=2,
    )


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _found(rows: Sequence[Any]) -> list[Found]:
    """Clients as found: rows of id, name, company and first phone."""
    return [Found(r.id, r.name, r.company, r.phone) for r in rows]


def _first_phone(client_id: sa.ColumnElement[int]) -> sa.Label[str | None]:
    """The client's first phone (a WhatsApp number if they have no phone), as a column of a
    query that returns few rows: it is looked up per row returned."""
    ci = ChannelIdentity
    return (
        sa.select(ci.address)
        .where(ci.client_id == client_id, one_of(ci.channel, PHONE_CHANNELS))
        .order_by(sa.case((ci.channel == Channel.PHONE, 0), else_=1), ci.id)
        .limit(1)
        .scalar_subquery()
        .label("phone")
    )


async def _with_contacts(
    session: AsyncSession, found: list[Found], words: tuple[str, ...]
) -> list[Found]:
    """Name the contact person a client was found by, when the client's own name and
    company do not contain every word (one small query for the page)."""
    unexplained = {
        f.client_id: f
        for f in found
        if not all(w in searchable(f"{f.name or ''} {f.company or ''}") for w in words)
    }
    if not unexplained:
        return found
    stmt = (
        sa.select(ContactPerson.client_id, ContactPerson.name)
        .where(ContactPerson.client_id.in_(list(unexplained)), ContactPerson.name.is_not(None))
        .order_by(ContactPerson.is_primary.desc(), ContactPerson.id)
    )
    contacts: dict[int, str] = {}
    for client_id, name in (await session.execute(stmt)).all():
        if client_id not in contacts and any(w in searchable(name) for w in words):
            contacts[client_id] = name
    return [
        Found(f.client_id, f.name, f.company, f.phone, contacts.get(f.client_id))
        if f.client_id in contacts
        else f
        for f in found
    ]
