"""Claiming due rows for delivery: one message in flight per chat, ordinary messages in order,
coalescible rows (new-lead cards, task reminders) newest first and coalesced into digests of
one group each (see the package docstring)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, OutboxLane, OutboxMessage, OutboxStatus
from models.outbox import BULK_UNSETTLED
from services.outbox.messages import (
    CLAIM_LEASE,
    COALESCE_FROM,
    DIGEST_KIND,
    DIGEST_SIZE,
    UNSETTLED,
    Claimed,
)

_O = OutboxMessage.__table__
_BULK_TEXT = BULK_UNSETTLED.replace(" status", " outbox.status")  # "outbox.lane = ... AND ..."
_OTHER = _O.alias("other")
_SAME_CHAT = sa.and_(_OTHER.c.channel == _O.c.channel, _OTHER.c.recipient == _O.c.recipient)
_DUE = sa.or_(
    sa.and_(
        _O.c.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)),
        _O.c.next_attempt_at <= sa.bindparam("now"),
    ),
    # a lease that expired: its sender died
    sa.and_(_O.c.status == OutboxStatus.SENDING, _O.c.claimed_until < sa.bindparam("now")),
)
# A chat has one new message in flight at a time (the per-chat rate limit would hold a second
# one anyway, and a card that is claimed early could not be overtaken any more).
_CHAT_BUSY = (
    sa.select(_OTHER.c.id)
    .where(
        _SAME_CHAT,
        _OTHER.c.id != _O.c.id,
        _OTHER.c.status == OutboxStatus.SENDING,
        _OTHER.c.claimed_until >= sa.bindparam("now"),
        _OTHER.c.edit_of_id.is_(None),
    )
    .exists()
)
# Ordinary messages keep their order: one waits for every older unsettled ordinary message
# of its chat. A new message never waits behind an edit of an earlier one (edits are
# rendered when sent, so their relative order does not matter); an edit waits for what
# came before it, its original included. Coalescible rows hold nobody up, and bulk rows
# (broadcasts, digests) hold up only bulk rows: a reminder never waits behind them.
_WAITS_FOR_OLDER = (
    sa.select(_OTHER.c.id)
    .where(
        _SAME_CHAT,
        _OTHER.c.id < _O.c.id,
        _OTHER.c.status.in_(UNSETTLED),
        sa.or_(_OTHER.c.lane == OutboxLane.INTERACTIVE, _O.c.lane == OutboxLane.BULK),
        sa.or_(_OTHER.c.coalesce_group.is_(None), _O.c.edit_of_id.is_not(None)),
        sa.or_(_OTHER.c.edit_of_id.is_(None), _O.c.edit_of_id.is_not(None)),
    )
    .exists()
)
_COALESCIBLE = sa.and_(_O.c.coalesce_group.is_not(None), _O.c.edit_of_id.is_(None))
_DUE_ROWS = (
    sa.select(
        _O.c.id,
        _O.c.channel,
        _O.c.recipient,
        _COALESCIBLE.label("coalescible"),
        _O.c.coalesce_group,
        _O.c.lane,
    )
    .where(_DUE, ~_WAITS_FOR_OLDER, ~_CHAT_BUSY)
    .order_by(
        # Interactive before bulk; new messages (a screen-pop card) before edits of earlier
        # ones (a card catching up with its call); ordinary messages oldest first, then the
        # coalescible ones newest first, so a new card overtakes a backlog.
        sa.case((_O.c.lane == OutboxLane.INTERACTIVE, 0), else_=1),
        sa.case((_O.c.edit_of_id.is_(None), 0), else_=1),
        sa.case((_COALESCIBLE, sa.literal(2**62) - _O.c.id), else_=_O.c.id),
    )
)
_CLAIMED_COLUMNS = (
    _O.c.id,
    _O.c.channel,
    _O.c.recipient,
    _O.c.thread_id,
    _O.c.kind,
    _O.c.locale,
    _O.c.payload,
    _O.c.entity_type,
    _O.c.entity_id,
    _O.c.edit_of_id,
    _O.c.attempts,
    _O.c.lane,
)


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int = 50,
    channel: Channel | None = None,
    bulk_room: dict[Channel, int] | None = None,
) -> list[Claimed]:
    """Lease up to `limit` due messages (at most one per chat) for delivery; a digest of
    several coalesced rows counts as one message. Two round trips: look and lock, lease
    (and one more look while a broadcast has room).

    `bulk_room`: at most this many bulk-lane messages (broadcasts) of a channel; a channel
    not named takes any number. The pump keeps few of them in hand, so a card claimed next
    waits for a fraction of a second of the channel's rate, not for a broadcast's backlog."""
    only = [_O.c.channel == channel] if channel else []
    lanes = dict(bulk_room or {})
    stmt = _DUE_ROWS.where(*only)
    if lanes:  # their bulk rows are looked at below, by themselves
        stmt = stmt.where(sa.not_(sa.and_(_O.c.lane == OutboxLane.BULK, _O.c.channel.in_(lanes))))
    looks = [stmt.limit(limit * 4)]
    open_lanes = [c for c, n in lanes.items() if n > 0]
    if open_lanes:
        # A broadcast's thousands of due rows, oldest first along a partial index, stopping at
        # the lanes' room: never sorted (or checked for their chat) as a whole.
        bulk = (
            _DUE_ROWS.where(*only, sa.text(f"outbox.{_BULK_TEXT}"), _O.c.channel.in_(open_lanes))
            .order_by(None)
            .order_by(_O.c.id)
            .limit(2 * sum(lanes[c] for c in open_lanes))
        )
        looks.append(bulk)
    if session.get_bind().dialect.name == "postgresql":
        # Rows another claimer holds are skipped, not waited for; a row it leased and
        # committed meanwhile is re-checked by PostgreSQL and no longer due.
        looks = [look.with_for_update(skip_locked=True, of=_O) for look in looks]
    units: dict[tuple[str, str], list[int]] = {}
    coalescible: dict[tuple[str, str], str] = {}  # chat → the group its digest is of
    room = dict(lanes)
    found = [row for look in looks for row in (await session.execute(look, {"now": now})).all()]
    for row_id, row_channel, recipient, is_coalescible, group, lane in found:
        chat = (row_channel, recipient)
        if chat not in units:
            if len(units) == limit:
                continue
            if lane == OutboxLane.BULK and row_channel in room:
                if room[row_channel] <= 0:
                    continue
                room[row_channel] -= 1
            units[chat] = [row_id]
            if is_coalescible:
                coalescible[chat] = group
        elif coalescible.get(chat) == group and is_coalescible and len(units[chat]) < DIGEST_SIZE:
            units[chat].append(row_id)  # a digest holds one group's rows only
    await _gather_backlogs(session, units, coalescible, now)
    chosen = [
        ids if chat not in coalescible or len(ids) >= COALESCE_FROM else ids[:1]
        for chat, ids in units.items()
    ]
    return await _lease(session, chosen, now)


async def _gather_backlogs(
    session: AsyncSession,
    units: dict[tuple[str, str], list[int]],
    coalescible: dict[tuple[str, str], str],
    now: datetime,
) -> None:
    """The look above sees the newest due rows only, a few per chat at most: a chat whose
    backlog of one group is older (reminders due over a minute for hundreds of people) would
    get one message at a time. Each chosen chat's other due rows of its group are read here,
    newest first, so a backlog of COALESCE_FROM or more goes as a digest (one more round trip,
    only when such chats were chosen)."""
    short = [chat for chat, ids in units.items() if chat in coalescible and len(ids) < DIGEST_SIZE]
    if not short:
        return
    known = {i for chat in short for i in units[chat]}
    stmt = (
        sa.select(_O.c.id, _O.c.channel, _O.c.recipient, _O.c.coalesce_group)
        .where(
            sa.tuple_(_O.c.channel, _O.c.recipient).in_(short),
            _O.c.coalesce_group.is_not(None),
            _O.c.edit_of_id.is_(None),
            _O.c.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)),
            _O.c.next_attempt_at <= sa.bindparam("now"),
        )
        .order_by(_O.c.id.desc())
        .limit(DIGEST_SIZE * len(short))
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=_O)
    for row_id, channel, recipient, group in (await session.execute(stmt, {"now": now})).all():
        chat = (channel, recipient)
        if row_id in known or coalescible.get(chat) != group or len(units[chat]) >= DIGEST_SIZE:
            continue
        units[chat].append(row_id)


async def _lease(session: AsyncSession, units: list[list[int]], now: datetime) -> list[Claimed]:
    if not units:
        return []
    stmt = (
        sa.update(_O)
        .where(_O.c.id.in_([i for ids in units for i in ids]))
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + CLAIM_LEASE,
            attempts=_O.c.attempts + 1,
            coalesced_into_id=None,
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS, _O.c.coalesce_group)
    )
    rows = {row.id: row for row in (await session.execute(stmt)).all()}
    result = []
    for ids in units:
        head = rows[ids[0]]
        if len(ids) == 1:
            result.append(Claimed(*tuple(head)[:-1]))
            continue
        await session.execute(
            sa.update(_O).where(_O.c.id.in_(ids[1:])).values(coalesced_into_id=head.id)
        )
        members = [rows[i] for i in ids]  # newest first
        payload = {
            "group": head.coalesce_group,
            "entity_type": head.entity_type,
            "entity_ids": [m.entity_id for m in members],
        }
        attempts = max(m.attempts for m in members)
        result.append(
            Claimed(
                head.id,
                head.channel,
                head.recipient,
                head.thread_id,
                DIGEST_KIND,
                head.locale,
                payload,
                None,
                None,
                None,
                attempts,
                head.lane,
            )
        )
    return sorted(result, key=lambda c: c.id)
