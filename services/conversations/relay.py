"""Who answers a conversation, and telling them: relayed client messages in staff Telegram.

A conversation is answered by its assignee after a handover, else by the assignee of the lead
the client's first message opened (so taking the lead, or the queue handing it out, takes
the conversation along), else by the client's owner. Nobody: the admins see it, as they see
a lead nobody has.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Client, Conversation, Employee, Lead, Role
from services import notify, outbox

CLIENT_MESSAGE = "client_message"  # a client's message shown to an employee


def answerer() -> sa.ColumnElement[int]:
    """The employee id that answers a conversation (`Conversation`, `Lead`, `Client` joined)."""
    return sa.func.coalesce(Conversation.assignee_id, Lead.assignee_id, Client.owner_id)


async def answerers(session: AsyncSession, conversation_ids: list[int]) -> dict[int, notify.Person]:
    """Each conversation's answerer who can be told (active, with Telegram)."""
    if not conversation_ids:
        return {}
    e = Employee.__table__
    stmt = (
        sa.select(Conversation.id.label("conv_id"), e.c.id, e.c.telegram_id, e.c.locale)
        .select_from(Conversation)
        .outerjoin(Lead, Lead.id == Conversation.lead_id)
        .join(Client, Client.id == Conversation.client_id)
        .join(e, e.c.id == answerer())
        .where(
            Conversation.id.in_(sorted(set(conversation_ids))),
            e.c.is_active,
            e.c.telegram_id.is_not(None),
        )
    )
    rows = (await session.execute(stmt)).all()
    return {r.conv_id: notify.Person(r.id, r.telegram_id, r.locale) for r in rows}


async def to_staff(
    session: AsyncSession,
    messages: list[tuple[int, int]],
    *,
    now: datetime,
    default_locale: str,
) -> int:
    """Each (message, conversation) shown to whoever answers the conversation (or the admins)."""
    if not messages:
        return 0
    people = await answerers(session, [conv_id for _, conv_id in messages])
    admins: list[notify.Person] | None = None
    rows = []
    for message_id, conv_id in messages:
        if conv_id in people:
            recipients = [people[conv_id]]
        else:
            admins = admins if admins is not None else await notify.with_role(session, Role.ADMIN)
            recipients = admins
        rows += [
            notify.to_person(
                CLIENT_MESSAGE, "message", message_id, person, default_locale, message_id=message_id
            )
            for person in recipients
        ]
    written = await outbox.enqueue_many(session, [r for r in rows if r], now=now)
    return sum(row_id is not None for row_id in written)
