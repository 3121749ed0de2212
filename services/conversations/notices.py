"""What the employee who wrote a reply is shown about its delivery.

Each status change marks the employee's own Telegram message (a reaction: sent, delivered,
read); a failure is a message of its own, answering theirs, with the reason in plain words,
what to do, and Retry where sending again can help.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Message, MessageCopy, MessageStatus
from models.prepared import Prepared
from services import notify, outbox

STATUS_MARK = "status_mark"  # the reaction on the employee's message showing its status
DELIVERY_FAILED = "delivery_failed"


# Asked for every status of every reply: compiled once.
_COPIES = Prepared(
    sa.select(MessageCopy.chat_id).where(MessageCopy.message_id == sa.bindparam("message_id"))
)


async def status_changed(
    session: AsyncSession,
    message_id: int,
    status: MessageStatus,
    *,
    now: datetime,
    default_locale: str,
) -> None:
    copies = [row.chat_id for row in await _COPIES.all(session, {"message_id": message_id})]
    if status is MessageStatus.FAILED:
        await _failed(session, message_id, now=now, default_locale=default_locale)
        # the author is told why in their own chat; a team inbox's topic shows the mark
        copies = [chat_id for chat_id in copies if chat_id < 0]
    rows = [
        outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=chat_id,
            kind=STATUS_MARK,
            payload={"message_id": message_id},
            locale=default_locale,
            entity=("message", message_id),
        )
        for chat_id in sorted(set(copies))
    ]
    await outbox.enqueue_many(session, rows, now=now)


async def _failed(
    session: AsyncSession, message_id: int, *, now: datetime, default_locale: str
) -> None:
    found = (
        await session.execute(
            sa.select(Message.author_employee_id, Message.broadcast_id).where(
                Message.id == message_id
            )
        )
    ).first()
    if found is None or found.broadcast_id is not None:
        return  # a broadcast's failures are counted on its page, not told one by one
    author_id = found.author_employee_id
    person = await notify.recipient(session, author_id)
    notice = notify.to_person(
        DELIVERY_FAILED,
        "message",
        message_id,
        person,
        default_locale,
        once=False,
        message_id=message_id,
    )
    if notice is not None:
        await outbox.enqueue_many(session, [notice], now=now)
