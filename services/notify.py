"""Who is told what: decisions about notifications, written as outbox rows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Employee, OutboxMessage, OutboxStatus, Role
from services import outbox

LEAD_CARD = "lead_card"


async def lead_arrived(
    session: AsyncSession,
    *,
    lead_id: int,
    assignee_id: int | None,
    now: datetime,
    default_locale: str,
) -> int:
    """The assignee gets the client card; an unassigned lead goes to every admin instead."""
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.telegram_id, e.c.locale).where(
        e.c.is_active, e.c.telegram_id.is_not(None)
    )
    if assignee_id is not None:
        stmt = stmt.where(e.c.id == assignee_id)
    else:
        stmt = stmt.where(e.c.role == Role.ADMIN)
    sent = 0
    for person in (await session.execute(stmt)).all():
        row_id = await outbox.enqueue(
            session,
            channel=Channel.TELEGRAM,
            recipient=person.telegram_id,
            kind=LEAD_CARD,
            payload={"lead_id": lead_id, "unassigned": assignee_id is None},
            now=now,
            locale=person.locale or default_locale,
            entity=("lead", lead_id),
            dedupe_key=f"{LEAD_CARD}:{lead_id}:{person.id}",
        )
        sent += row_id is not None
    return sent


async def lead_changed(session: AsyncSession, *, lead_id: int, now: datetime) -> int:
    """Every copy of the lead's card is edited in place to show the new state."""
    o = OutboxMessage.__table__
    stmt = sa.select(o.c.id, o.c.recipient, o.c.locale, o.c.payload).where(
        o.c.entity_type == "lead",
        o.c.entity_id == lead_id,
        o.c.kind == LEAD_CARD,
        o.c.edit_of_id.is_(None),
        o.c.status != OutboxStatus.DEAD,
    )
    edits = 0
    for card in (await session.execute(stmt)).all():
        await outbox.enqueue(
            session,
            channel=Channel.TELEGRAM,
            recipient=card.recipient,
            kind=LEAD_CARD,
            payload=card.payload,
            now=now,
            locale=card.locale,
            entity=("lead", lead_id),
            edit_of_id=card.id,
        )
        edits += 1
    return edits
