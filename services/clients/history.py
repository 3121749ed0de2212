"""What a lead, call or task card shows of the client: recent contacts (timeline entries),
open deals and open tasks, leaving out the event the card is about.

One event can leave several rows: a missed call makes a lead and a "call back" task, and Take
opens a deal from a lead. A card about any of them must not show the others as history (a
first-time caller is a new client, not "a client who has contacted before").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Call, Deal, DealStatus, Lead, PipelineStage, Task, TaskStatus
from services.clients.timeline import NOTHING, Entry, Event, Kind, entries

LIMIT = 5  # contacts on a lead, call or task card
MISSED_CALL = "missed_call"  # lead.extra key: the missed call that made the lead (services.calls)


@dataclass(frozen=True)
class OpenDeal:
    title: str
    stage: str
    amount: Decimal | None


@dataclass(frozen=True)
class OpenTask:
    kind: str
    title: str
    due_at: datetime | None


@dataclass(frozen=True)
class CardHistory:
    """What a lead, call or task card shows: recent contacts and what is open now."""

    contacts: list[Entry] = field(default_factory=list)
    open_deals: list[OpenDeal] = field(default_factory=list)
    open_tasks: list[OpenTask] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Nothing but the card's own event: a new client."""
        return not (self.contacts or self.open_deals or self.open_tasks)


CONTACTS = frozenset({Kind.LEAD, Kind.CALL})


async def of_client(
    session: AsyncSession,
    client_id: int,
    *,
    leaving_out: Event = NOTHING,
    before: Lead | None = None,
) -> CardHistory:
    """The client's newest contacts (leads and calls), open deals and open tasks, without
    `leaving_out`; with `before`, only contacts up to that lead (a lead card's "contacted
    before")."""
    return CardHistory(
        await entries(
            session, client_id, limit=LIMIT, kinds=CONTACTS, leaving_out=leaving_out, before=before
        ),
        await _open_deals(session, client_id, leaving_out),
        await _open_tasks(session, client_id, leaving_out),
    )


async def of_lead(session: AsyncSession, lead: Lead) -> Event:
    """A lead, the missed call that made it, that call's task, and the deal Take opened."""
    call_id = (lead.extra or {}).get(MISSED_CALL)
    return await _event(
        session, leads={lead.id}, call_id=call_id if isinstance(call_id, int) else None
    )


async def of_call(session: AsyncSession, call_id: int) -> Event:
    """A call, and the lead and task it made if it was missed."""
    return await _event(session, leads=set(), call_id=call_id)


async def of_task(session: AsyncSession, task: Task) -> Event:
    """A task, and the missed call that opened it with that call's lead."""
    event = await _event(session, leads=set(), call_id=task.call_id)
    return Event(event.leads, event.calls, event.deals, event.tasks | {task.id})


async def _event(session: AsyncSession, *, leads: set[int], call_id: int | None) -> Event:
    """The rows of one event in one round trip (a card is rendered for every call event)."""
    calls = {call_id} if call_id is not None else set()
    parts = []
    if call_id is not None:
        made = (
            # As text: a lead's `extra` may hold anything a form sent under that key.
            sa.select(sa.literal("lead"), Lead.id, Lead.extra[MISSED_CALL].as_string())
            .join(Call, Call.lead_id == Lead.id)
            .where(Call.id == call_id)
        )
        task = sa.select(sa.literal("task"), Task.id, sa.null().cast(sa.String)).where(
            Task.call_id == call_id
        )
        call_lead = sa.select(Call.lead_id).where(Call.id == call_id).scalar_subquery()
        parts += [made, task]
        deal_of = sa.or_(Deal.lead_id.in_(sorted(leads)), Deal.lead_id == call_lead)
    else:
        deal_of = Deal.lead_id.in_(sorted(leads))
    if not parts and not leads:
        return Event(calls=frozenset(calls))
    parts.append(
        sa.select(sa.literal("deal"), Deal.id, sa.cast(Deal.lead_id, sa.String)).where(deal_of)
    )
    rows = (await session.execute(sa.union_all(*parts))).all()
    made = {i for kind, i, by in rows if kind == "lead" and str(by) == str(call_id)}
    leads = leads | made
    tasks = {i for kind, i, _ in rows if kind == "task"}
    of_leads = {str(i) for i in leads}
    deals = {i for kind, i, lead_id in rows if kind == "deal" and str(lead_id) in of_leads}
    return Event(frozenset(leads), frozenset(calls), frozenset(deals), frozenset(tasks))


async def _open_deals(session: AsyncSession, client_id: int, leaving_out: Event) -> list[OpenDeal]:
    stmt = (
        sa.select(Deal.title, PipelineStage.name, Deal.amount)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(
            Deal.client_id == client_id,
            Deal.status == DealStatus.OPEN,
            Deal.id.not_in(sorted(leaving_out.deals)),
        )
        .order_by(Deal.id)
        .limit(LIMIT)
    )
    return [OpenDeal(*row) for row in (await session.execute(stmt)).all()]


async def _open_tasks(session: AsyncSession, client_id: int, leaving_out: Event) -> list[OpenTask]:
    stmt = (
        sa.select(Task.kind, Task.title, Task.due_at)
        .where(
            Task.client_id == client_id,
            Task.status == TaskStatus.OPEN,
            Task.id.not_in(sorted(leaving_out.tasks)),
        )
        .order_by(Task.due_at)
        .limit(LIMIT)
    )
    return [OpenTask(str(kind), title, due) for kind, title, due in (await session.execute(stmt))]
