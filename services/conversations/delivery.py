"""What the outbox pump's result means for conversations (called in the transaction that
records the result: `OutboxPump(on_settled=...)`).

- a client's message relayed to an employee: that Telegram message now stands for it (a
  reply to it answers the conversation);
- a reply to a client: sent (with the provider's id, and any status that came before it) or
  failed (the employee is told why, within the pump's round trip).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Direction, Message, MessageStatus
from services.conversations import notices, statuses
from services.conversations.relay import CLIENT_MESSAGE
from services.conversations.replies import CLIENT_REPLY, remember_copy
from services.outbox import Claimed


async def settled(
    session: AsyncSession,
    row: Claimed,
    *,
    result: str,
    provider_id: str | None,
    error: str,
    now: datetime,
    default_locale: str,
) -> None:
    if row.entity_type != "message" or row.entity_id is None:
        return
    if row.kind == CLIENT_MESSAGE and result == "sent" and provider_id:
        await remember_copy(session, row.entity_id, int(row.recipient), int(provider_id))
    elif row.kind == CLIENT_REPLY and result in ("sent", "dead"):
        await _reply_settled(
            session, row, provider_id, error, sent=result == "sent", now=now, locale=default_locale
        )


async def _reply_settled(
    session: AsyncSession,
    row: Claimed,
    provider_id: str | None,
    error: str,
    *,
    sent: bool,
    now: datetime,
    locale: str,
) -> None:
    if sent and provider_id:
        await statuses.lock(session, str(row.channel), provider_id)
    t = Message.__table__
    values = (
        dict(status=MessageStatus.SENT, provider_message_id=provider_id, error=None)
        if sent
        else dict(status=MessageStatus.FAILED, error=error[:500])
    )
    stmt = (
        sa.update(t)
        .where(
            t.c.id == row.entity_id,
            t.c.direction == Direction.OUT,
            t.c.status == MessageStatus.PENDING,
        )
        .values(status_at=now, updated_at=now, **values)
        .returning(t.c.id)
    )
    if (await session.execute(stmt)).first() is None:
        return
    status = MessageStatus.SENT if sent else MessageStatus.FAILED
    await notices.status_changed(session, row.entity_id, status, now=now, default_locale=locale)  # type: ignore[arg-type]
    if sent and provider_id:
        await statuses.apply_early(
            session, str(row.channel), provider_id, now=now, default_locale=locale
        )
