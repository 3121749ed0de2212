"""Who is told what: decisions about notifications, written as outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Employee, OutboxMessage, OutboxStatus, Role
from services import outbox
from services.assignment import Assignment

LEAD_CARD = "lead_card"
# New-lead cards waiting for one chat may go out together as one digest (services.outbox).
NEW_LEADS = "new_leads"


@dataclass(frozen=True)
class Person:
    """Whom a notification goes to: their Telegram chat (None: they have none) and language."""

    id: int
    telegram_id: int | None
    locale: str | None


async def leads_arrived(
    session: AsyncSession,
    arrivals: list[tuple[int, Assignment]],
    *,
    now: datetime,
    default_locale: str,
) -> int:
    """Each assignee gets the client card; an unassigned lead goes to every admin instead."""
    admins: list[Person] | None = None
    cards: list[outbox.Outgoing | None] = []
    for lead_id, assignee in arrivals:
        if assignee.employee_id is not None:
            people = [Person(assignee.employee_id, assignee.telegram_id, assignee.locale)]
        else:
            admins = admins if admins is not None else await with_role(session, Role.ADMIN)
            people = admins
        unassigned = assignee.employee_id is None
        cards += [
            to_person(
                LEAD_CARD,
                "lead",
                lead_id,
                person,
                default_locale,
                coalesce_group=NEW_LEADS,
                lead_id=lead_id,
                unassigned=unassigned,
            )
            for person in people
        ]
    written = await outbox.enqueue_many(session, [c for c in cards if c], now=now)
    await _to_team(session, [lead_id for lead_id, _ in arrivals], now)
    return sum(row_id is not None for row_id in written)


async def _to_team(session: AsyncSession, lead_ids: list[int], now: datetime) -> None:
    """A client of a new lead (a form, a call, a first message) gets a topic in their team
    inbox, if there is one (services.team)."""
    from services.team import topics as team_topics  # a team topic shows leads

    await team_topics.leads_changed(session, lead_ids, now=now)


async def with_role(session: AsyncSession, role: Role) -> list[Person]:
    """The active employees of `role` who have Telegram, by id."""
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.telegram_id, e.c.locale).where(
        e.c.is_active, e.c.telegram_id.is_not(None), e.c.role == role
    )
    return [Person(*row) for row in (await session.execute(stmt.order_by(e.c.id))).all()]


async def lead_changed(session: AsyncSession, *, lead_id: int, now: datetime) -> int:
    """Every copy of the lead's card is edited in place to show the new state (and the
    client's topic card in a team inbox)."""
    return await leads_changed(session, lead_ids=[lead_id], now=now)


async def leads_changed(session: AsyncSession, *, lead_ids: list[int], now: datetime) -> int:
    """`lead_changed` for many leads at once (a bulk change): a few queries per thousands of
    leads, not one per lead (and never more bound values than a database takes)."""
    from services.team import topics as team_topics  # a team topic shows leads

    edited, ids = 0, sorted(set(lead_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await team_topics.leads_changed(session, chunk, now=now)
        edited += await _edit_cards(session, LEAD_CARD, "lead", chunk, now)
    return edited


_CHUNK = 5000  # ids bound in one statement (SQLite and asyncpg both stop at 32,767)


CALL_CARD = "call_card"
TASK_CARD = "task_card"


async def call_ringing(
    session: AsyncSession, *, call_id: int, employee: Any, now: datetime, default_locale: str
) -> int | None:
    """Screen-pop: the employee whose phone rings gets the caller's card (once per call).

    `employee` is anything with `id`, `telegram_id` and `locale`."""
    card = to_person(CALL_CARD, "call", call_id, employee, default_locale, call_id=call_id)
    return (await outbox.enqueue_many(session, [card], now=now))[0] if card else None


async def call_changed(session: AsyncSession, *, call_id: int, now: datetime) -> int:
    return await _edit_cards(session, CALL_CARD, "call", [call_id], now)


async def task_assigned(
    session: AsyncSession,
    *,
    task_id: int,
    assignee_id: int | None,
    now: datetime,
    default_locale: str,
) -> int | None:
    if assignee_id is None:
        return None
    person = await recipient(session, assignee_id)
    card = to_person(TASK_CARD, "task", task_id, person, default_locale, task_id=task_id)
    return (await outbox.enqueue_many(session, [card], now=now))[0] if card else None


def to_person(
    kind: str,
    entity_type: str,
    entity_id: int,
    person: Any,
    default_locale: str,
    *,
    coalesce_group: str | None = None,
    once: bool = True,
    **payload: Any,
) -> outbox.Outgoing | None:
    """A card about one entity for one employee in Telegram, sent once (dedupe key) unless
    asked for again; None when they have no Telegram."""
    if person is None or person.telegram_id is None:
        return None
    return outbox.Outgoing(
        channel=Channel.TELEGRAM,
        recipient=person.telegram_id,
        kind=kind,
        payload=payload,
        locale=person.locale or default_locale,
        entity=(entity_type, entity_id),
        dedupe_key=f"{kind}:{entity_id}:{person.id}" if once else None,
        coalesce_group=coalesce_group,
    )


async def lead_card_requested(
    session: AsyncSession, *, lead_id: int, employee_id: int, now: datetime, default_locale: str
) -> int | None:
    """The employee asked to see the lead's card (from a digest): a fresh copy, on its own,
    that is then kept up to date like every copy."""
    person = await recipient(session, employee_id)
    card = to_person(
        LEAD_CARD, "lead", lead_id, person, default_locale, once=False, lead_id=lead_id
    )
    return (await outbox.enqueue_many(session, [card], now=now))[0] if card else None


async def recipient(session: AsyncSession, employee_id: int | None) -> Person | None:
    """One employee as a recipient (None: nobody, or no such employee)."""
    if employee_id is None:
        return None
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.telegram_id, e.c.locale).where(e.c.id == employee_id)
    row = (await session.execute(stmt)).one_or_none()
    return Person(*row) if row else None


# Task reminders waiting for one chat may go out together as one digest (services.outbox).
TASK_REMINDERS = "task_reminders"
TICKET_CARD = "ticket_card"  # a ticket as support sees it, kept up to date
TICKET_REPLY = "ticket_reply"  # one reply of a ticket's thread, headed by who wrote it
TICKET_CLOSED = "ticket_closed"


async def ticket_changed(session: AsyncSession, *, ticket_id: int, now: datetime) -> int:
    return await _edit_cards(session, TICKET_CARD, "ticket", [ticket_id], now)


async def task_changed(session: AsyncSession, *, task_id: int, now: datetime) -> int:
    return await _edit_cards(session, TASK_CARD, "task", [task_id], now)


_O = OutboxMessage.__table__
_CARDS_OF = sa.select(
    _O.c.id,
    _O.c.recipient,
    _O.c.locale,
    _O.c.payload,
    _O.c.edit_of_id,
    _O.c.status,
    _O.c.entity_id,
).where(
    _O.c.entity_type == sa.bindparam("entity_type"),
    _O.c.entity_id.in_(sa.bindparam("entity_ids", expanding=True)),
    _O.c.kind == sa.bindparam("kind"),
    # A dead copy never arrived; a coalesced one is a line of a digest, not a card to edit.
    _O.c.status.not_in((OutboxStatus.DEAD, OutboxStatus.COALESCED)),
)


async def _edit_cards(
    session: AsyncSession, kind: str, entity_type: str, entity_ids: list[int], now: datetime
) -> int:
    """Edit every delivered copy of the cards in place; an edit still waiting to go out already
    shows the newest state (cards are rendered when sent), so no second one is queued."""
    if not entity_ids:
        return 0
    params = {"entity_type": entity_type, "entity_ids": sorted(set(entity_ids)), "kind": kind}
    rows = (await session.execute(_CARDS_OF, params)).all()
    waiting = {
        r.edit_of_id
        for r in rows
        if r.edit_of_id is not None and r.status in (OutboxStatus.PENDING, OutboxStatus.FAILED)
    }
    edits = [
        outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=r.recipient,
            kind=kind,
            payload=r.payload,
            locale=r.locale,
            entity=(entity_type, r.entity_id),
            edit_of_id=r.id,
        )
        for r in rows
        if r.edit_of_id is None
        and r.id not in waiting
        and r.status not in (OutboxStatus.PENDING, OutboxStatus.FAILED)
    ]
    await outbox.enqueue_many(session, edits, now=now)
    return len(edits)


# --- Menus (issue 13): a chat's command list (bot.telegram.commands) is set through the outbox.
MENU = "menu"


async def menu_changed(
    session: AsyncSession, *, telegram_id: int, now: datetime, default_locale: str
) -> int | None:
    """The chat's command list is brought up to date: the role's list when it belongs to an
    active employee when sent, none otherwise (the chat falls back to the strangers' list).
    Decided when sent, so rows that overtake one another still leave the latest state."""
    return await outbox.enqueue(
        session,
        now=now,
        channel=Channel.TELEGRAM,
        recipient=f"menu:{telegram_id}",  # not a message: it waits behind none of the chat's
        kind=MENU,
        payload={"chat_id": telegram_id},
        locale=default_locale,  # for an employee without a locale of their own
    )


async def strangers_menu(
    session: AsyncSession, *, version: str, default_locale: str, now: datetime
) -> int:
    """The list every private chat without its own shows (/start, /help), per language and a
    fallback in the company's; written once per `version` of the texts (restarts add nothing)."""
    rows = [
        outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=f"menu:private:{code or '*'}",
            kind=MENU,
            payload={"scope": "private", "language_code": code},
            locale=code or default_locale,
            dedupe_key=f"menu:private:{code or '*'}:{version}",
        )
        for code in ("", "ru", "en")
    ]
    written = await outbox.enqueue_many(session, rows, now=now)
    return sum(row_id is not None for row_id in written)
