"""What the outbox pump's result means for conversations (called in the transaction that
records the result: `OutboxPump(on_settled=...)`).

- a client's message relayed to an employee: that Telegram message now stands for it (a
  reply to it answers the conversation);
- a reply to a client: sent (with the provider's id, and any status that came before it) or
  failed (the employee is told why, within the pump's round trip).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Direction, Message, MessageStatus
from models.prepared import Prepared
from services.conversations import notices, statuses
from services.conversations.relay import CLIENT_MESSAGE
from services.conversations.replies import CLIENT_REPLY, remember_copy
from services.outbox import Claimed

_M = Message.__table__


def _reply_result(**values: Any) -> Prepared:
    """A pending reply marked with its delivery's result (every reply's send records one)."""
    return Prepared(
        sa.update(_M)
        .where(
            _M.c.id == sa.bindparam("message_id"),
            _M.c.direction == Direction.OUT,
            _M.c.status == MessageStatus.PENDING,
        )
        .values(status_at=sa.bindparam("now"), updated_at=sa.bindparam("now"), **values)
        .returning(_M.c.id)
    )


_SENT = _reply_result(
    status=MessageStatus.SENT, provider_message_id=sa.bindparam("provider_id"), error=None
)
_FAILED = _reply_result(status=MessageStatus.FAILED, error=sa.bindparam("error"))


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
    params = dict(message_id=row.entity_id, now=now)
    if sent:
        found = await _SENT.first(session, {**params, "provider_id": provider_id})
    else:
        found = await _FAILED.first(session, {**params, "error": error[:500]})
    if found is None:
        return
    status = MessageStatus.SENT if sent else MessageStatus.FAILED
    await notices.status_changed(session, row.entity_id, status, now=now, default_locale=locale)  # type: ignore[arg-type]
    if sent and provider_id:
        await statuses.apply_early(
            session, str(row.channel), provider_id, now=now, default_locale=locale
        )
