"""A client writes: messages from any channel stored once, conversations opened, employees told.

`receive_many` takes a batch (the webhook's notification, or concurrent deliveries grouped
by the edge) and, for the whole batch at once:
record deliveries (a provider's retry changes nothing) → lock the chats (two first messages
of one chat arriving together open one lead) → find conversations → open the new ones
(a lead through intake: client found by any identity, assignment rules, card) → store the
messages → relay each later message to whoever answers the conversation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Conversation, Direction, InboundEvent, Message, MessageStatus
from models.db import insert_ignoring_conflicts
from services.clients.identities import normalize_phone
from services.context import Company
from services.conversations import channels, client_side, relay
from services.conversations.inputs import IncomingMessage, Kind
from services.errors import InvalidPhone
from services.leads import intake
from services.leads.inputs import LeadIn
from services.team import topics as team_topics

_LOCK_ALL = sa.text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k "
    "ORDER BY 1) AS ordered"
)
Key = tuple[str, str]  # (channel, chat id)
Found = dict[Key, tuple[int, int | None]]  # a chat's conversation and the lead it opened


@dataclass(frozen=True)
class Received:
    duplicate: bool
    message_id: int | None = None
    conversation_id: int | None = None
    opened_lead_id: int | None = None  # the lead this message opened (a first message)


DUPLICATE = Received(duplicate=True)


async def receive_many(
    session: AsyncSession, batch: list[IncomingMessage], *, company: Company
) -> list[Received]:
    now = company.clock.now()
    fresh = await _record(session, batch, now)
    results: list[Received] = [DUPLICATE] * len(batch)
    if not fresh:
        return results
    items = [batch[i] for i in fresh]
    keys = sorted({(str(m.channel), m.chat_id) for m in items})
    await _lock(session, keys)
    found = await _conversations(session, keys)
    opened = await _open(session, [m for m in _firsts(items) if _key(m) not in found], company)
    found |= {key: (conv_id, lead_id) for key, (conv_id, lead_id) in opened.items()}
    ids = await _store(session, items, found, now)
    await _touch(session, items, found, now)
    first_ids = {id(m) for m in _firsts(items) if _key(m) in opened}
    relayed = [
        (message_id, found[_key(m)][0])
        for m, message_id in zip(items, ids, strict=True)
        if id(m) not in first_ids or m.kind != Kind.TEXT  # a first text is on the lead card
    ]
    await relay.to_staff(session, relayed, now=now, default_locale=company.locale)
    # the clients' topics in a team inbox show their messages (services.team)
    conv_ids = sorted({conv_id for conv_id, _ in found.values()})
    await team_topics.conversations_changed(session, conv_ids, now=now)
    await _answer_client(session, items, found, opened, company)
    for i, m, message_id in zip(fresh, items, ids, strict=True):
        conv_id, lead_id = found[_key(m)]
        opened_lead = lead_id if id(m) in first_ids else None
        results[i] = Received(False, message_id, conv_id, opened_lead)
    return results


async def receive(session: AsyncSession, message: IncomingMessage, *, company: Company) -> Received:
    [result] = await receive_many(session, [message], company=company)
    return result


async def _answer_client(
    session: AsyncSession,
    items: list[IncomingMessage],
    found: Found,
    opened: Found,
    company: Company,
) -> None:
    """What the product itself tells the client: the auto-reply after hours, the opt-out
    confirmation, and (once, on channels that need it) the request for their phone."""
    conv_ids = sorted({found[_key(m)][0] for m in items})
    await client_side.after_hours(session, conv_ids, company=company)
    for m in items:
        if m.kind == Kind.TEXT and client_side.is_opt_out(m.text):
            await client_side.opt_out(session, found[_key(m)][0], company=company)
    for key, (conv_id, _lead) in opened.items():
        if channels.rules_of(key[0]).asks_for_phone:
            conv = await session.get(Conversation, conv_id)
            if conv is not None and not await client_side.has_phone(session, conv.client_id):
                await client_side.tell(
                    session,
                    conv_id,
                    "client_chat.ask_phone",
                    company=company,
                    once="ask_phone",
                    request_contact=True,
                )


def _key(m: IncomingMessage) -> Key:
    return (str(m.channel), m.chat_id)


def _firsts(items: list[IncomingMessage]) -> list[IncomingMessage]:
    """The first message of each chat in the batch."""
    seen: dict[Key, IncomingMessage] = {}
    for m in items:
        seen.setdefault(_key(m), m)
    return list(seen.values())


async def _record(session: AsyncSession, batch: list[IncomingMessage], now: datetime) -> list[int]:
    """Record each delivery once; the batch positions seen for the first time, in order."""
    if not batch:
        return []
    stmt = insert_ignoring_conflicts(session, InboundEvent.__table__).returning(
        InboundEvent.source, InboundEvent.external_id
    )
    params = [
        dict(source=f"{m.channel}:message", external_id=m.message_id[:200], received_at=now)
        for m in batch
    ]
    written = {tuple(r) for r in (await session.execute(stmt, params)).all()}
    fresh, seen = [], set()
    for i, p in enumerate(params):
        key = (p["source"], p["external_id"])
        if key in written and key not in seen:
            fresh.append(i)
        seen.add(key)
    return fresh


async def _lock(session: AsyncSession, keys: list[Key]) -> None:
    """On PostgreSQL, one chat's messages are received one transaction at a time (SQLite's
    BEGIN IMMEDIATE serialises every writer already): otherwise two first messages of a new
    chat, arriving together, would each open a lead."""
    if session.get_bind().dialect.name != "postgresql":
        return
    locks = sorted(
        int.from_bytes(hashlib.sha256(f"chat:{c}:{a}".encode()).digest()[:8], "big", signed=True)
        for c, a in keys
    )
    # One round trip, the locks taken in order (two batches never wait on each other in turn).
    await session.execute(_LOCK_ALL, {"keys": locks})


async def _conversations(session: AsyncSession, keys: list[Key]) -> Found:
    c = Conversation.__table__
    stmt = sa.select(c.c.channel, c.c.external_chat_id, c.c.id, c.c.lead_id).where(
        sa.tuple_(c.c.channel, c.c.external_chat_id).in_(keys)
    )
    rows = (await session.execute(stmt)).all()
    return {(str(r.channel), r.external_chat_id): (r.id, r.lead_id) for r in rows}


def _identities(m: IncomingMessage, region: str) -> tuple[list[tuple[Any, str]], str | None]:
    """The chat's identity on record, and the phone the client is reachable on (if any)."""
    rules = channels.rules_of(m.channel)
    phone = None
    for raw in ([m.chat_id] if rules.chat_id_is_phone else []) + ([m.phone] if m.phone else []):
        try:
            phone = normalize_phone(raw, region, international=True)
            break
        except InvalidPhone:
            continue
    address = phone if rules.chat_id_is_phone and phone else m.chat_id
    return [(m.channel, address)], phone


async def _open(session: AsyncSession, firsts: list[IncomingMessage], company: Company) -> Found:
    """New chats: a lead each (through intake: the client found by any identity or created,
    the assignment rules, the card), then the conversation."""
    if not firsts:
        return {}
    incoming = []
    for m in firsts:
        identities, phone = _identities(m, company.region)
        lead = LeadIn(
            source=str(m.channel),
            name=m.name,
            phone=phone,
            comment=m.text or None,
            extra={"conversation_channel": str(m.channel)},
        )
        incoming.append(intake.Incoming(lead, identities=tuple(identities)))
    results = await intake.register_many(session, incoming, company=company)
    now = company.clock.now()
    rows = [
        dict(
            client_id=r.client_id,
            channel=m.channel,
            external_chat_id=m.chat_id,
            lead_id=r.lead_id,
            display_name=m.name,
            is_open=True,
            created_at=now,
            updated_at=now,
        )
        for m, r in zip(firsts, results, strict=True)
        if isinstance(r, intake.IntakeResult)
    ]
    c = Conversation.__table__
    stmt = sa.insert(c).returning(c.c.id, c.c.lead_id, sort_by_parameter_order=True)
    written = (await session.execute(stmt, rows)).all()
    return {
        (str(row["channel"]), row["external_chat_id"]): (w.id, w.lead_id)
        for row, w in zip(rows, written, strict=True)
    }


async def _store(
    session: AsyncSession,
    items: list[IncomingMessage],
    found: Found,
    now: datetime,
) -> list[int]:
    quoted = await _quoted(session, items)
    rows = [
        dict(
            conversation_id=found[_key(m)][0],
            channel=m.channel,
            direction=Direction.IN,
            kind=str(m.kind),
            text=m.text,
            media=_media(m),
            provider_message_id=m.message_id[:200],
            status=MessageStatus.RECEIVED,
            status_at=m.at or now,
            reply_to_id=quoted.get((str(m.channel), m.quoted_id or "")),
            created_at=now,
            updated_at=now,
        )
        for m in items
    ]
    t = Message.__table__
    stmt = sa.insert(t).returning(t.c.id, sort_by_parameter_order=True)
    return list((await session.execute(stmt, rows)).scalars().all())


def _media(m: IncomingMessage) -> dict[str, Any] | None:
    data: dict[str, Any] = {**m.details} if m.details else {}
    if m.media is not None:
        data |= m.media.as_json()
    return data or None


async def _quoted(session: AsyncSession, items: list[IncomingMessage]) -> dict[Key, int]:
    wanted = sorted({(str(m.channel), m.quoted_id) for m in items if m.quoted_id})
    if not wanted:
        return {}
    t = Message.__table__
    stmt = sa.select(t.c.channel, t.c.provider_message_id, t.c.id).where(
        sa.tuple_(t.c.channel, t.c.provider_message_id).in_(wanted)
    )
    return {(str(r.channel), r.provider_message_id): r.id for r in (await session.execute(stmt))}


async def _touch(
    session: AsyncSession,
    items: list[IncomingMessage],
    found: Found,
    now: datetime,
) -> None:
    """The client wrote now: WhatsApp's 24-hour window starts again; their newest name."""
    names = {found[_key(m)][0]: m.name for m in items}
    c = Conversation.__table__
    stmt = (
        sa.update(c)
        .where(c.c.id == sa.bindparam("conv_id"))
        .values(
            last_inbound_at=now,
            last_message_at=now,
            is_open=True,
            updated_at=now,
            display_name=sa.func.coalesce(sa.bindparam("name"), c.c.display_name),
        )
    )
    await session.execute(
        stmt, [{"conv_id": conv_id, "name": name} for conv_id, name in sorted(names.items())]
    )
