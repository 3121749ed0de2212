"""Who is told what: decisions about notifications, written as outbox rows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Employee, OutboxMessage, OutboxStatus, Role
from services import outbox
from services.assignment import Assignment

LEAD_CARD = "lead_card"


async def leads_arrived(
    session: AsyncSession,
    arrivals: list[tuple[int, Assignment]],
    *,
    now: datetime,
    default_locale: str,
) -> int:
    """Each assignee gets the client card; an unassigned lead goes to every admin instead."""
    admins: list[tuple[int, int | None, str | None]] | None = None
    cards: list[outbox.Outgoing] = []
    for lead_id, assignee in arrivals:
        if assignee.employee_id is not None:
            people = [(assignee.employee_id, assignee.telegram_id, assignee.locale)]
        else:
            admins = admins if admins is not None else await _admins(session)
            people = admins
        cards.extend(
            outbox.Outgoing(
                channel=Channel.TELEGRAM,
                recipient=telegram_id,
                kind=LEAD_CARD,
                payload={"lead_id": lead_id, "unassigned": assignee.employee_id is None},
                locale=locale or default_locale,
                entity=("lead", lead_id),
                dedupe_key=f"{LEAD_CARD}:{lead_id}:{employee_id}",
            )
            for employee_id, telegram_id, locale in people
            if telegram_id is not None
        )
    written = await outbox.enqueue_many(session, cards, now=now)
    return sum(row_id is not None for row_id in written)


async def _admins(session: AsyncSession) -> list[tuple[int, int | None, str | None]]:
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.telegram_id, e.c.locale).where(
        e.c.is_active, e.c.telegram_id.is_not(None), e.c.role == Role.ADMIN
    )
    return [(row.id, row.telegram_id, row.locale) for row in (await session.execute(stmt)).all()]


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
