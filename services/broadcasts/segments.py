"""Who a broadcast reaches: the clients of a segment, and what becomes of each on the
broadcast's channel (one SELECT, used to count before starting and to freeze the audience).

A client of the segment is
- `opted_out`: they asked for no broadcasts ("STOP"), on any channel or this one's chat;
- `no_address`: nothing to send to on the channel (Telegram: they never wrote to the bot;
  WhatsApp: no WhatsApp chat and no phone);
- `needs_template`: WhatsApp, outside the 24-hour window, and the broadcast has no approved
  template to send there instead of the text;
- `send`: the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from models import ChannelIdentity, Client, ClientTag, Conversation, Deal, DealStatus, Lead
from models.enums import Channel
from services import listing
from services.conversations import channels

OUTCOMES = ("send", "needs_template", "opted_out", "no_address")


@dataclass(frozen=True)
class Segment:
    """Clients with any of `tags`, an open deal at `stage_id`, a lead from `source`, last in
    touch (a message either way, on any channel) on or after `contacted_since`, or not in
    touch since `quiet_since` (never counts as not), of `office_id` (a manager's)."""

    channel: Channel
    tags: tuple[str, ...] = ()
    stage_id: int | None = None
    source: str | None = None
    contacted_since: datetime | None = None
    quiet_since: datetime | None = None
    office_id: int | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "channel": str(self.channel),
            "tags": list(self.tags),
            "stage_id": self.stage_id,
            "source": self.source,
            "contacted_since": _iso(self.contacted_since),
            "quiet_since": _iso(self.quiet_since),
            "office_id": self.office_id,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def conditions(segment: Segment) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [Client.merged_into_id.is_(None)]
    if segment.tags:
        tagged = sa.select(ClientTag.client_id).where(ClientTag.tag.in_(segment.tags))
        found.append(Client.id.in_(tagged))
    if segment.stage_id is not None:
        at_stage = sa.select(Deal.client_id).where(
            Deal.stage_id == segment.stage_id, Deal.status == DealStatus.OPEN
        )
        found.append(Client.id.in_(at_stage))
    if segment.source:
        found.append(Client.id.in_(sa.select(Lead.client_id).where(Lead.source == segment.source)))
    if segment.contacted_since is not None:
        found.append(Client.id.in_(_touched_since(segment.contacted_since)))
    if segment.quiet_since is not None:
        found.append(Client.id.not_in(_touched_since(segment.quiet_since)))
    if segment.office_id is not None:
        found.append(listing.in_office(Client.office_id, Client.owner_id, segment.office_id))
    return found


def _touched_since(moment: datetime) -> sa.Select[tuple[int]]:
    return sa.select(Conversation.client_id).where(Conversation.last_message_at >= moment)


def audience(segment: Segment, *, now: datetime, has_template: bool) -> sa.Select:  # type: ignore[type-arg]
    """(client_id, outcome, chat_id, conversation_id) for every client of the segment; the
    chat is the client's latest conversation on the channel, else (WhatsApp) their phone."""
    channel = segment.channel
    latest = (
        sa.select(
            Conversation.client_id.label("client_id"), sa.func.max(Conversation.id).label("id")
        )
        .where(Conversation.channel == channel)
        .group_by(Conversation.client_id)
        .subquery("latest")
    )
    conv = aliased(Conversation, name="conv")
    chat: ColumnElement[str | None] = conv.external_chat_id
    joins: list[tuple[object, ColumnElement[bool]]] = []
    if channels.rules_of(channel).chat_id_is_phone:
        phone = (
            sa.select(
                ChannelIdentity.client_id.label("client_id"),
                sa.func.min(ChannelIdentity.address).label("address"),
            )
            .where(ChannelIdentity.channel == Channel.PHONE)
            .group_by(ChannelIdentity.client_id)
            .subquery("phone")
        )
        joins.append((phone, phone.c.client_id == Client.id))
        chat = sa.func.coalesce(conv.external_chat_id, sa.func.substr(phone.c.address, 2))
    window = channels.rules_of(channel).reply_window
    outcome = sa.case(
        (
            sa.or_(Client.opted_out_at.is_not(None), conv.opted_out_at.is_not(None)),
            sa.literal("opted_out"),
        ),
        (chat.is_(None), sa.literal("no_address")),
        *(
            [
                (
                    sa.or_(conv.last_inbound_at.is_(None), conv.last_inbound_at < now - window),
                    sa.literal("needs_template"),
                )
            ]
            if window is not None and not has_template
            else []
        ),
        else_=sa.literal("send"),
    )
    stmt = (
        sa.select(
            Client.id.label("client_id"),
            outcome.label("outcome"),
            chat.label("chat_id"),
            conv.id.label("conversation_id"),
        )
        .select_from(Client)
        .outerjoin(latest, latest.c.client_id == Client.id)
        .outerjoin(conv, conv.id == latest.c.id)
    )
    for table, on in joins:
        stmt = stmt.outerjoin(table, on)  # type: ignore[arg-type]
    return stmt.where(*conditions(segment))


def counted(segment: Segment, *, now: datetime, has_template: bool) -> sa.Select:  # type: ignore[type-arg]
    """(outcome, clients) of the segment's audience."""
    found = audience(segment, now=now, has_template=has_template).subquery()
    return sa.select(found.c.outcome, sa.func.count()).group_by(found.c.outcome)


def sources() -> sa.Select[tuple[str]]:
    """The lead sources a segment can name (those leads came from), commonest first."""
    return sa.select(Lead.source).group_by(Lead.source).order_by(sa.func.count().desc()).limit(100)
