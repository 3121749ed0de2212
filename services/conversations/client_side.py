"""What the client is told by the product itself, and what a client's words decide.

- outside working hours (nobody on duty in the conversation's office) the client gets the
  auto-reply, once per half day, and the conversation waits for whoever comes on shift (its
  lead waits in the queue, services.leads.queue, or with its owner);
- "STOP", "стоп", "отписаться" turn broadcasts off for the client, and they are told so;
- a client of the Telegram bot is asked once to share their phone, and a shared phone joins
  the Telegram identity to the client the phone belongs to (their calls, forms, WhatsApp).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, ChannelIdentity, Client, Conversation, Lead, OutboxMessage, Role
from services import assignment, outbox
from services.actors import Actor
from services.clients import merge
from services.clients.identities import normalize_phone
from services.context import Company
from services.errors import InvalidPhone

CLIENT_NOTICE = "client_notice"  # a text of ours to a client (auto-reply, confirmations)
OPT_OUT_WORDS = frozenset({"stop", "стоп", "отписаться", "unsubscribe", "отписка"})
AUTO_REPLY = "client_chat.auto_reply"
AUTO_REPLY_EVERY = timedelta(hours=12)  # one auto-reply per conversation in this long
# The merges a shared phone causes are the product's own (no employee did them).
SYSTEM = Actor(0, Role.ADMIN, None, "system")


def is_opt_out(text: str | None) -> bool:
    words = re.sub(r"[^\w]+", " ", (text or "").lower()).split()
    return len(words) == 1 and words[0] in OPT_OUT_WORDS


async def tell(
    session: AsyncSession,
    conv_id: int,
    key: str,
    *,
    company: Company,
    once: str | None = None,
    request_contact: bool = False,
    remove_keyboard: bool = False,
    text: str | None = None,
) -> None:
    """A text of ours to the client on their channel (locale `key`, or `text` as given)."""
    conv = await session.get(Conversation, conv_id)
    if conv is None:
        return
    payload: dict[str, object] = {"key": key}
    if text:
        payload["text"] = text
    if request_contact:
        payload["request_contact"] = True
    if remove_keyboard:
        payload["remove_keyboard"] = True
    await outbox.enqueue(
        session,
        now=company.clock.now(),
        channel=conv.channel,
        recipient=conv.external_chat_id,
        kind=CLIENT_NOTICE,
        payload=payload,
        locale=company.locale,
        entity=("conversation", conv_id),
        dedupe_key=f"{CLIENT_NOTICE}:{conv_id}:{once}" if once else None,
    )


async def after_hours(session: AsyncSession, conv_ids: list[int], *, company: Company) -> None:
    """The auto-reply, where nobody is on duty for the conversation's office now."""
    if not conv_ids:
        return
    now = company.clock.now()
    stmt = (
        sa.select(Conversation.id, sa.func.coalesce(Lead.office_id, Client.office_id))
        .outerjoin(Lead, Lead.id == Conversation.lead_id)
        .join(Client, Client.id == Conversation.client_id)
        .where(Conversation.id.in_(sorted(set(conv_ids))))
    )
    offices = dict((await session.execute(stmt)).all())
    duty: dict[int | None, bool] = {}
    answered = await _auto_replied(session, sorted(offices), since=now - AUTO_REPLY_EVERY)
    for conv_id, office_id in sorted(offices.items()):
        if conv_id in answered:
            continue
        if office_id not in duty:
            on_duty = await assignment.on_duty_now(
                session, now=now, timezone=company.timezone, office_id=office_id
            )
            duty[office_id] = bool(on_duty)
        if not duty[office_id]:
            await tell(
                session,
                conv_id,
                AUTO_REPLY,
                company=company,
                once=f"auto:{int(now.timestamp())}",
                text=company.auto_reply,
            )


async def _auto_replied(session: AsyncSession, conv_ids: list[int], *, since: datetime) -> set[int]:
    """The conversations whose client got the auto-reply since `since`."""
    o = OutboxMessage.__table__
    stmt = sa.select(o.c.entity_id).where(
        o.c.entity_type == "conversation",
        o.c.entity_id.in_(conv_ids),
        o.c.kind == CLIENT_NOTICE,
        o.c.created_at > since,
        o.c.payload["key"].as_string() == AUTO_REPLY,
    )
    return set((await session.execute(stmt)).scalars())


async def opt_out(session: AsyncSession, conv_id: int, *, company: Company) -> None:
    conv = await session.get(Conversation, conv_id)
    if conv is None:
        return
    now = company.clock.now()
    await session.execute(
        sa.update(Client)
        .where(Client.id == conv.client_id, Client.opted_out_at.is_(None))
        .values(opted_out_at=now)
    )
    await tell(session, conv_id, "client_chat.opted_out", company=company)


async def link_phone(
    session: AsyncSession, channel: str, chat_id: str, raw_phone: str, *, company: Company
) -> bool:
    """The client of this chat shared their phone: the chat's client and the phone's are one.
    False when the chat has no conversation yet (the phone then opens it), or the phone is
    not a phone."""
    conv = (
        await session.execute(
            sa.select(Conversation).where(
                Conversation.channel == channel, Conversation.external_chat_id == chat_id
            )
        )
    ).scalar_one_or_none()
    try:
        phone = normalize_phone(raw_phone, company.region, international=True)
    except InvalidPhone:
        return False
    if conv is None:
        return False
    owner = await session.scalar(
        sa.select(ChannelIdentity.client_id).where(
            ChannelIdentity.channel == Channel.PHONE, ChannelIdentity.address == phone
        )
    )
    if owner is None:
        now = company.clock.now()
        session.add(
            ChannelIdentity(
                client_id=conv.client_id,
                channel=Channel.PHONE,
                address=phone,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
    elif owner != conv.client_id:
        survivor = await _live(session, owner)
        if survivor != conv.client_id:
            await merge.merge(session, survivor, conv.client_id, by=SYSTEM, company=company)
    await tell(session, conv.id, "client_chat.phone_thanks", company=company, remove_keyboard=True)
    return True


async def _live(session: AsyncSession, client_id: int) -> int:
    """The client a merged client now lives on as."""
    for _ in range(10):
        merged_into = await session.scalar(
            sa.select(Client.merged_into_id).where(Client.id == client_id)
        )
        if merged_into is None:
            return client_id
        client_id = merged_into
    return client_id


async def has_phone(session: AsyncSession, client_id: int) -> bool:
    return (
        await session.scalar(
            sa.select(ChannelIdentity.id)
            .where(ChannelIdentity.client_id == client_id, ChannelIdentity.channel == Channel.PHONE)
            .limit(1)
        )
    ) is not None
