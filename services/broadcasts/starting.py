"""Starting a broadcast: the audience frozen and every message written, in one transaction.

One row per (broadcast, client) records what became of the client (services.broadcasts
.segments); each client to be sent gets one message in their conversation on the channel (a
WhatsApp conversation is opened for a client known by phone only) and one outbox row in the
bulk lane, keyed by the message. Delivery is then the outbox's: a crash or a restart resumes
where it stopped and sends nobody anything twice, and the lane never holds up a card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Broadcast,
    BroadcastRecipient,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    OutboxLane,
)
from models.db import insert_ignoring_conflicts
from services import access, audit, outbox
from services.actors import Actor
from services.broadcasts.segments import OUTCOMES, Segment, audience, counted, sources
from services.context import Company
from services.conversations import CLIENT_REPLY, TEMPLATE, channels
from services.errors import InvalidInput

TEXT_LIMIT = 4096
_B, _R = Broadcast.__table__, BroadcastRecipient.__table__
_M, _C = Message.__table__, Conversation.__table__


@dataclass(frozen=True)
class Draft:
    segment: Segment
    text: str
    template: str | None = None  # an approved WhatsApp template's name
    # The form's one-time key: the same key again (a double press) starts nothing new.
    request_key: str | None = None


def templates(channel: str) -> list[tuple[str, str | None]]:
    """The channel's approved templates as (name, language)."""
    found = []
    for entry in channels.rules_of(channel).templates:
        name, _, language = entry.partition(":")
        found.append((name, language or None))
    return found


async def size(
    session: AsyncSession, segment: Segment, *, has_template: bool, now: datetime
) -> dict[str, int]:
    """How many clients of the segment each outcome has (every outcome named, 0 or more)."""
    rows = (await session.execute(counted(segment, now=now, has_template=has_template))).all()
    found = dict.fromkeys(OUTCOMES, 0)
    found.update({outcome: n for outcome, n in rows})
    return found


async def lead_sources(session: AsyncSession) -> list[str]:
    return list((await session.execute(sources())).scalars())


async def start(session: AsyncSession, draft: Draft, *, by: Actor, company: Company) -> int:
    """Freeze the audience and write every message; returns the broadcast's id (that of the
    broadcast started with the draft's `request_key` already, if one was: nothing new).
    Two presses at the same moment: the second's insert waits for the first's transaction
    and, finding its key, returns the first's id."""
    access.require_bulk(by)
    segment = draft.segment
    limit = access.office_limit(by)
    if limit is not None:
        segment = Segment(**{**segment.__dict__, "office_id": limit})
    text = (draft.text or "").strip()
    if not text:
        raise InvalidInput("nothing to send", key="broadcast.error.empty")
    if len(text) > TEXT_LIMIT:
        raise InvalidInput("too long", key="broadcast.error.too_long", limit=TEXT_LIMIT)
    language = None
    if draft.template:
        known = dict(templates(segment.channel))
        if draft.template not in known:
            raise InvalidInput("no such template", key="broadcast.error.template")
        language = known[draft.template] or company.locale
    now = company.clock.now()
    earlier = sa.select(_B.c.id).where(_B.c.request_key == draft.request_key)
    if draft.request_key and (found := await session.scalar(earlier)) is not None:
        return int(found)
    broadcast_id = (
        await session.execute(
            insert_ignoring_conflicts(session, _B).returning(_B.c.id),
            dict(
                request_key=draft.request_key,
                at=now,
                actor_id=by.id,
                office_id=segment.office_id,
                channel=segment.channel,
                text=text,
                template=draft.template,
                language=language,
                segment=segment.as_json(),
                counts={},
            ),
        )
    ).scalar_one_or_none()
    if broadcast_id is None:  # the same form, sent at the same moment, started it
        return int(await session.scalar(earlier))  # type: ignore[arg-type]
    chosen = audience(segment, now=now, has_template=draft.template is not None).subquery()
    await session.execute(
        sa.insert(_R).from_select(
            ["broadcast_id", "client_id", "outcome", "chat_id", "conversation_id"],
            sa.select(sa.literal(broadcast_id), *chosen.c),
        )
    )
    await _open_conversations(session, broadcast_id, segment, now)
    await _write_messages(session, broadcast_id, segment, text, draft, language, by, now)
    sent = await _enqueue(session, broadcast_id, now, company.locale)
    if not sent:  # the caller's transaction rolls back: no empty broadcast is kept
        raise InvalidInput("nobody to send to", key="broadcast.error.nobody")
    counts = dict.fromkeys(OUTCOMES, 0)
    rows = await session.execute(
        sa.select(_R.c.outcome, sa.func.count())
        .where(_R.c.broadcast_id == broadcast_id)
        .group_by(_R.c.outcome)
    )
    counts.update({outcome: n for outcome, n in rows.all()})
    counts["send"] = sent
    await session.execute(sa.update(_B).where(_B.c.id == broadcast_id).values(counts=counts))
    await audit.log(
        session,
        action="broadcast.started",
        entity_type="broadcast",
        entity_id=broadcast_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        count=sent,
        counts=counts,
        channel=str(segment.channel),
    )
    return broadcast_id


async def _open_conversations(
    session: AsyncSession, broadcast_id: int, segment: Segment, now: datetime
) -> None:
    """A WhatsApp conversation for each client known by phone only; then every recipient to
    be sent knows its conversation."""
    new = sa.select(
        _R.c.client_id,
        sa.literal(segment.channel, _C.c.channel.type),
        _R.c.chat_id,
        sa.true(),
        sa.literal(now, _C.c.created_at.type),
        sa.literal(now, _C.c.updated_at.type),
    ).where(
        _R.c.broadcast_id == broadcast_id,
        _R.c.outcome == "send",
        _R.c.conversation_id.is_(None),
    )
    columns = ["client_id", "channel", "external_chat_id", "is_open", "created_at", "updated_at"]
    await session.execute(insert_ignoring_conflicts(session, _C).from_select(columns, new))
    found = (
        sa.select(_C.c.id)
        .where(_C.c.channel == segment.channel, _C.c.external_chat_id == _R.c.chat_id)
        .scalar_subquery()
    )
    await session.execute(
        sa.update(_R)
        .where(
            _R.c.broadcast_id == broadcast_id,
            _R.c.outcome == "send",
            _R.c.conversation_id.is_(None),
        )
        .values(conversation_id=found)
    )


async def _write_messages(
    session: AsyncSession,
    broadcast_id: int,
    segment: Segment,
    text: str,
    draft: Draft,
    language: str | None,
    by: Actor,
    now: datetime,
) -> None:
    """One message per recipient to be sent: the text within the channel's reply window (or
    on a channel without one), the template outside it."""
    window = channels.rules_of(segment.channel).reply_window
    opened = (
        sa.true()
        if window is None
        else sa.and_(_C.c.last_inbound_at.is_not(None), _C.c.last_inbound_at >= now - window)
    )
    base = (
        sa.select(_R.c.conversation_id)
        .join(_C, _C.c.id == _R.c.conversation_id)
        .where(_R.c.broadcast_id == broadcast_id, _R.c.outcome == "send")
    )
    shapes = [(opened, "text", text, None)]
    if draft.template is not None:
        media = {"template": draft.template, "language": language}
        shapes.append((sa.not_(opened), TEMPLATE, draft.template, media))
    for condition, kind, body, media in shapes:
        rows = base.where(condition).add_columns(
            sa.literal(segment.channel, _M.c.channel.type),
            sa.literal(Direction.OUT, _M.c.direction.type),
            sa.literal(by.id),
            sa.literal(kind),
            sa.literal(body),
            sa.literal(media, _M.c.media.type) if media else sa.null(),
            sa.literal(MessageStatus.PENDING, _M.c.status.type),
            sa.literal(now, _M.c.status_at.type),
            sa.literal(broadcast_id),
            sa.literal(now, _M.c.created_at.type),
            sa.literal(now, _M.c.updated_at.type),
        )
        columns = [
            "conversation_id",
            "channel",
            "direction",
            "author_employee_id",
            "kind",
            "text",
            "media",
            "status",
            "status_at",
            "broadcast_id",
            "created_at",
            "updated_at",
        ]
        await session.execute(sa.insert(_M).from_select(columns, rows))


async def _enqueue(session: AsyncSession, broadcast_id: int, now: datetime, locale: str) -> int:
    """An outbox row in the bulk lane for every message of the broadcast; how many."""
    rows = (
        await session.execute(
            sa.select(_M.c.id, _M.c.channel, _C.c.external_chat_id)
            .join(_C, _C.c.id == _M.c.conversation_id)
            .where(_M.c.broadcast_id == broadcast_id)
            .order_by(_M.c.id)
        )
    ).all()
    await outbox.enqueue_many(
        session,
        [
            outbox.Outgoing(
                channel=channel,
                recipient=chat,
                kind=CLIENT_REPLY,
                payload={"message_id": message_id},
                locale=locale,
                lane=OutboxLane.BULK,
                dedupe_key=f"{CLIENT_REPLY}:{message_id}",
                entity=("message", message_id),
            )
            for message_id, channel, chat in rows
        ],
        now=now,
    )
    return len(rows)
