"""What follows records a bulk reassign (or its undo) gave to someone, beyond the summary each
person gets (services.bulk.engine.FOLLOW, by kind).

Leads: the new assignee of a new lead gets its card with the buttons (many at once come as one
digest of new leads, as a burst of arrivals does), every earlier copy of each card shows who
has it now, and a conversation a lead opened goes with it, as when one lead is reassigned in
chat (services.leads.actions.assign)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Lead, LeadStatus
from services import notify
from services.assignment import Assignment, Reason
from services.context import Company

CHUNK = 5000


async def leads(
    session: AsyncSession, moved: list[tuple[int, int | None]], company: Company
) -> None:
    """`moved`: (lead, whose it is now)."""
    if not moved:
        return
    from services.conversations.handover import lead_changed_hands  # conversations open leads

    now = company.clock.now()
    ids = sorted({lead_id for lead_id, _ in moved})
    await notify.leads_changed(session, lead_ids=ids, now=now)
    new: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = await session.scalars(
            sa.select(Lead.id).where(Lead.id.in_(chunk), Lead.status == LeadStatus.NEW)
        )
        new |= set(found)
    holders = sorted({who for _, who in moved if who is not None})
    e = Employee.__table__
    people = {
        row.id: Assignment(row.id, row.office_id, Reason.MANUAL, row.telegram_id, row.locale)
        for row in (
            await session.execute(
                sa.select(e.c.id, e.c.office_id, e.c.telegram_id, e.c.locale).where(
                    e.c.id.in_(holders)
                )
            )
        ).all()
    }
    arrivals = [
        (lead_id, people[who]) for lead_id, who in moved if lead_id in new and who in people
    ]
    for start in range(0, len(arrivals), CHUNK):
        await notify.leads_arrived(
            session, arrivals[start : start + CHUNK], now=now, default_locale=company.locale
        )
    for start in range(0, len(ids), CHUNK):
        await lead_changed_hands(
            session, ids[start : start + CHUNK], now=now, locale=company.locale
        )
