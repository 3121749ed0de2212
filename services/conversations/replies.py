"""An employee answers a client, or writes a note beside the conversation.

A reply is a message row (pending) and an outbox row to the client's channel, in the same
transaction; the channel's sender delivers it and records what became of it
(services.conversations.delivery). A note (the Note button, or a text starting with "//")
is a message that never leaves: no outbox row is written for it, ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Channel,
    Conversation,
    Direction,
    Lead,
    Message,
    MessageCopy,
    MessageStatus,
    OutboxMessage,
    OutboxStatus,
)
from models.db import insert_ignoring_conflicts
from services import outbox
from services.actors import Actor
from services.clients import visibility
from services.context import Company
from services.conversations import channels
from services.conversations.inputs import TEXT_CAP, Kind, Media
from services.errors import Conflict, InvalidInput, NotFound
from services.team import topics as team_topics

CLIENT_REPLY = "client_reply"  # an employee's message to a client, on the client's channel
NOTE_PREFIX = "//"


class WindowClosed(Conflict):
    """WhatsApp takes free-form messages only within 24 h of the client's last message."""

    code = "window_closed"

    def __init__(self, *, templates: tuple[str, ...]) -> None:
        key = "conversation.error.window_templates" if templates else "conversation.error.window"
        names = [t.partition(":")[0] for t in templates]
        super().__init__("outside the channel's reply window", key=key, templates=", ".join(names))
        self.templates = tuple(names)


@dataclass(frozen=True)
class Written:
    message_id: int
    note: bool


def is_note(text: str | None) -> bool:
    return (text or "").lstrip().startswith(NOTE_PREFIX)


async def write(
    session: AsyncSession,
    conversation_id: int,
    *,
    by: Actor,
    text: str | None,
    media: Media | None = None,
    quoting: int | None = None,
    staff_copy: tuple[int, int] | None = None,
    note: bool = False,
    team_topic: int | None = None,
    company: Company,
) -> Written:
    """A reply to the client, or a note when asked for or when the text starts with "//".

    `quoting`: the message (of this conversation) it answers; `staff_copy`: the employee's
    own Telegram message (chat, message id), so a reply to it later finds this conversation;
    `team_topic`: typed in the client's topic of a team inbox (services.team checked the
    writer belongs there): the topic shows it already, and the team sees every client.
    """
    conv = await _team_side(session, conversation_id) if team_topic else None
    conv = conv or await _visible(session, conversation_id, by)
    note = note or is_note(text)
    if not note:
        _require_window(conv, company.clock.now())  # before anything is written
    text = (text or "").strip()
    if note:
        text = text.removeprefix(NOTE_PREFIX).strip()
    if not text and media is None:
        raise InvalidInput("nothing to send", key="conversation.error.empty")
    now = company.clock.now()
    message_id = await _insert(session, conv, by, text, media, quoting, note, now)
    if staff_copy is not None:
        await remember_copy(session, message_id, *staff_copy)
    if not note:
        await _send(session, conv, message_id, now=now, locale=company.locale)
        await _first_response(session, conv, now, by, company)
    conv.last_message_at = now
    if team_topic is not None:
        await team_topics.mark_shown(session, team_topic, [message_id])
    else:
        await team_topics.clients_changed(session, [conv.client_id], now=now)
    return Written(message_id, note)


async def _team_side(session: AsyncSession, conversation_id: int) -> Conversation:
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound("no such conversation", key="conversation.error.not_found")
    return conv


async def _send(
    session: AsyncSession,
    conv: Conversation,
    message_id: int,
    *,
    now: datetime,
    locale: str,
    attempt: str = "",
) -> None:
    """The outbox row that takes a message to the client's channel (once per `attempt`)."""
    await outbox.enqueue(
        session,
        now=now,
        channel=conv.channel,
        recipient=conv.external_chat_id,
        kind=CLIENT_REPLY,
        payload={"message_id": message_id},
        locale=locale,
        entity=("message", message_id),
        dedupe_key=f"{CLIENT_REPLY}:{message_id}{attempt}",
    )


async def require(session: AsyncSession, conversation_id: int, *, by: Actor) -> None:
    """The check `write` makes, before someone starts typing: a conversation they may see."""
    await _visible(session, conversation_id, by)


async def _visible(session: AsyncSession, conversation_id: int, by: Actor) -> Conversation:
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound("no such conversation", key="conversation.error.not_found")
    await visibility.require(session, conv.client_id, by)
    return conv


def _require_window(conv: Conversation, now: datetime) -> None:
    rules = channels.rules_of(conv.channel)
    if rules.reply_window is None:
        return
    last = conv.last_inbound_at
    if last is None or now - last > rules.reply_window:
        raise WindowClosed(templates=rules.templates)


async def _insert(
    session: AsyncSession,
    conv: Conversation,
    by: Actor,
    text: str,
    media: Media | None,
    quoting: int | None,
    note: bool,
    now: datetime,
) -> int:
    if quoting is not None:
        quoted = await session.get(Message, quoting)
        quoting = quoting if quoted and quoted.conversation_id == conv.id else None
    kind = Kind.TEXT if media is None else Kind.IMAGE if _photo(media) else Kind.DOCUMENT
    t = Message.__table__
    stmt = sa.insert(t).returning(t.c.id)
    return (
        await session.execute(
            stmt,
            dict(
                conversation_id=conv.id,
                channel=conv.channel,
                direction=Direction.INTERNAL if note else Direction.OUT,
                author_employee_id=by.id,
                kind=str(kind),
                text=text[:TEXT_CAP] or None,
                media=media.as_json() if media else None,
                status=MessageStatus.SENT if note else MessageStatus.PENDING,
                status_at=now,
                reply_to_id=quoting,
                created_at=now,
                updated_at=now,
            ),
        )
    ).scalar_one()


def _photo(media: Media) -> bool:
    return (media.mime or "").startswith("image/") and not media.filename


async def remember_copy(
    session: AsyncSession, message_id: int, chat_id: int, telegram_message_id: int
) -> None:
    """The message is shown in a staff chat as that Telegram message (a reply to it answers
    the conversation)."""
    stmt = insert_ignoring_conflicts(session, MessageCopy.__table__)
    await session.execute(
        stmt,
        dict(chat_id=chat_id, telegram_message_id=telegram_message_id, message_id=message_id),
    )


async def _first_response(
    session: AsyncSession, conv: Conversation, now: datetime, by: Actor, company: Company
) -> None:
    """The first employee answer to the lead the client's first message opened."""
    from services.leads.actions import record_response  # leads tell conversations of hands

    lead = await session.get(Lead, conv.lead_id) if conv.lead_id is not None else None
    if lead is not None:
        await record_response(session, lead, now=now, by_id=by.id, default_tz=company.timezone)


async def conversation_of(
    session: AsyncSession, *, chat_id: int, telegram_message_id: int
) -> tuple[int, int | None] | None:
    """The (conversation, message) a staff Telegram message shows, if it shows one."""
    stmt = (
        sa.select(Message.conversation_id, Message.id)
        .join(MessageCopy, MessageCopy.message_id == Message.id)
        .where(
            MessageCopy.chat_id == chat_id, MessageCopy.telegram_message_id == telegram_message_id
        )
    )
    row = (await session.execute(stmt)).first()
    if row is not None:
        return row.conversation_id, row.id
    # A lead card of a lead a client's message opened stands for that conversation.
    o = OutboxMessage.__table__
    lead_id = (
        sa.select(o.c.entity_id)
        .where(
            o.c.channel == Channel.TELEGRAM,
            o.c.recipient == str(chat_id),
            o.c.provider_message_id == str(telegram_message_id),
            o.c.entity_type == "lead",
            # a digest's rows carry its message id too: a reply to a digest is to no one lead
            o.c.status == OutboxStatus.SENT,
        )
        .limit(1)
    )
    conv = await session.scalar(
        sa.select(Conversation.id).where(Conversation.lead_id == lead_id.scalar_subquery())
    )
    return (conv, None) if conv is not None else None


TEMPLATE = "template"  # Message.kind of a template sent outside the reply window


def template_of(channel: str, index: int, default_language: str) -> tuple[str, str]:
    """(name, language) of the channel's `index`-th template ("name" or "name:lang")."""
    templates = channels.rules_of(channel).templates
    if not 0 <= index < len(templates):
        raise NotFound("no such template", key="conversation.error.no_template")
    name, _, language = templates[index].partition(":")
    return name, language or default_language


async def send_template(
    session: AsyncSession,
    conversation_id: int,
    index: int,
    *,
    by: Actor,
    company: Company,
) -> str:
    """Send one of the channel's approved templates: allowed outside the reply window (that
    is what they are for). Returns the template's name."""
    conv = await _visible(session, conversation_id, by)
    name, language = template_of(conv.channel, index, company.locale)
    now = company.clock.now()
    t = Message.__table__
    message_id = (
        await session.execute(
            sa.insert(t).returning(t.c.id),
            dict(
                conversation_id=conv.id,
                channel=conv.channel,
                direction=Direction.OUT,
                author_employee_id=by.id,
                kind=TEMPLATE,
                text=name,
                media={"template": name, "language": language},
                status=MessageStatus.PENDING,
                status_at=now,
                created_at=now,
                updated_at=now,
            ),
        )
    ).scalar_one()
    await _send(session, conv, message_id, now=now, locale=company.locale)
    await _first_response(session, conv, now, by, company)
    conv.last_message_at = now
    await team_topics.clients_changed(session, [conv.client_id], now=now)
    return name


async def retry(session: AsyncSession, message_id: int, *, by: Actor, company: Company) -> None:
    """Send a failed reply again, once per failure (a second press while it goes is refused)."""
    message = await session.get(Message, message_id)
    if message is None or message.direction is not Direction.OUT:
        raise NotFound("no such message", key="conversation.error.not_found")
    conv = await _visible(session, message.conversation_id, by)
    if message.status is not MessageStatus.FAILED:
        raise Conflict("not a failed message", key="conversation.error.not_failed")
    now = company.clock.now()
    if message.kind != TEMPLATE:
        _require_window(conv, now)
    failed_at = int((message.status_at or now).timestamp())
    message.status, message.error, message.status_at = MessageStatus.PENDING, None, now
    # the failed send's id: a late status of it must not touch the new attempt
    message.provider_message_id = None
    await _send(
        session, conv, message_id, now=now, locale=company.locale, attempt=f":retry:{failed_at}"
    )
