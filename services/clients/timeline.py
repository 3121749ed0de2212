"""A client's timeline: the one way every card reads a client's history.

Leads, calls, deals (opened, moved between stages, won or lost, with who and when), tasks,
notes and messages, newest first, a page at a time (`page`). Each table gives its newest
rows for the client through an index on (client, time), limited to what the page needs; one
UNION ALL puts them in order. Lead, call and task cards read the same entries (`of_client`),
leaving out the event the card is about.

One event can leave several rows: a missed call makes a lead and a "call back" task, and Take
opens a deal from a lead. A card about any of them must not show the others as history (a
first-time caller is a new client, not "a client who has contacted before").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Call,
    Conversation,
    Deal,
    DealStageChange,
    DealStatus,
    Employee,
    Lead,
    Message,
    Note,
    PipelineStage,
    Task,
    TaskStatus,
)
from models.base import UTCDateTime
from services.errors import NotFound

LIMIT = 5  # contacts on a lead, call or task card
PAGE_SIZE = 6  # entries on a page of the client card
MISSED_CALL = "missed_call"  # lead.extra key: the missed call that made the lead (services.calls)


class Kind(enum.IntEnum):
    """What an entry is; of rows at the same moment, the higher kind is the newer (a deal
    opened by Take comes after its lead)."""

    LEAD = 1
    CALL = 2
    TASK = 3
    DEAL = 4
    STAGE = 5
    NOTE = 6
    MESSAGE = 7


@dataclass(frozen=True)
class Entry:
    """One line of a client's history. What the text fields hold depends on the kind:

    lead: text = source, state = status, who = assignee
    call: text = direction ("in"/"out"), state = status, who = employee
    task: text = title, state = status, extra = kind ("call_back"), who = assignee
    deal (opened): ref_id = deal, text = title, state = stage, extra = amount, who = owner
    stage (a move): ref_id = deal, text = deal title, state = new stage, extra = the stage's
        kind ("open"/"won"/"lost"), who = who moved it
    note: text = the note, who = author
    message: text = the message, state = direction, who = the employee who wrote it
    """

    at: datetime
    kind: Kind
    ref_id: int
    text: str | None
    state: str | None
    who: str | None
    extra: str | None


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    number: int  # 0 = newest
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 0


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
class Timeline:
    """What a lead, call or task card shows: recent contacts and what is open now."""

    contacts: list[Entry] = field(default_factory=list)
    open_deals: list[OpenDeal] = field(default_factory=list)
    open_tasks: list[OpenTask] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Nothing but the card's own event: a new client."""
        return not (self.contacts or self.open_deals or self.open_tasks)


@dataclass(frozen=True)
class Event:
    """The rows of the event a card is about, which its history leaves out."""

    leads: frozenset[int] = frozenset()
    calls: frozenset[int] = frozenset()
    deals: frozenset[int] = frozenset()
    tasks: frozenset[int] = frozenset()


NOTHING = Event()
EVERYTHING = frozenset(Kind)


async def page(
    session: AsyncSession, client_id: int, number: int = 0, *, size: int = PAGE_SIZE
) -> Page:
    """Page `number` (0 = newest) of the client's timeline; NotFound past the last page
    (a forged or stale button), except page 0, which may be empty."""
    rows = await entries(session, client_id, offset=number * size, limit=size + 1)
    if number > 0 and not rows:
        raise NotFound("no such page", key="client.no_page", page=number)
    return Page(rows[:size], number, len(rows) > size)


async def entries(
    session: AsyncSession,
    client_id: int,
    *,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    kinds: frozenset[Kind] = EVERYTHING,
    leaving_out: Event = NOTHING,
    before: Lead | None = None,
) -> list[Entry]:
    """The client's entries of `kinds`, newest first, in one round trip: each table's newest
    `offset + limit` rows (an index on client and time), merged by one UNION ALL."""
    params = {
        "client_id": client_id,
        "take": offset + limit,
        "skip": offset,
        "size": limit,
        "out_leads": sorted(leaving_out.leads),
        "out_calls": sorted(leaving_out.calls),
        "out_deals": sorted(leaving_out.deals),
        "out_tasks": sorted(leaving_out.tasks),
    }
    if before is not None:
        params |= {"before_id": before.id, "before_at": before.created_at}
    rows = await session.execute(_statement(kinds, before is not None), params)
    return [
        Entry(r.at, Kind(r.kind), r.ref_id, r.text, r.state, r.who, r.extra) for r in rows.all()
    ]


@cache  # built once per shape: building this statement costs more than running it
def _statement(kinds: frozenset[Kind], before: bool) -> sa.Select[tuple[object, ...]]:
    take = sa.bindparam("take", type_=sa.Integer)
    parts = [
        sa.select(*sub.c)
        for sub in (
            part.order_by(at.desc(), row.desc()).limit(take).subquery()
            for kind, (part, at, row) in _parts(before).items()
            if kind in kinds
        )
    ]
    union = sa.union_all(*parts).subquery()
    return (
        sa.select(union)
        .order_by(union.c.at.desc(), union.c.kind.desc(), union.c.row_id.desc())
        .offset(sa.bindparam("skip", type_=sa.Integer))
        .limit(sa.bindparam("size", type_=sa.Integer))
    )


def _columns(
    kind: Kind,
    at: sa.ColumnElement[datetime],
    row_id: sa.ColumnElement[int],
    ref_id: sa.ColumnElement[int],
    text: sa.ColumnElement[str] | None,
    state: sa.ColumnElement[str] | None,
    who: sa.ColumnElement[str] | None,
    extra: sa.ColumnElement[str] | None = None,
) -> list[sa.ColumnElement[object]]:
    """The same columns of the same types from every table (a UNION ALL needs them)."""

    def text_of(value: sa.ColumnElement[str] | None) -> sa.ColumnElement[object]:
        return sa.cast(value if value is not None else sa.null(), sa.String)

    return [
        at.label("at"),
        sa.literal_column(str(int(kind)), sa.Integer).label("kind"),
        row_id.label("row_id"),
        ref_id.label("ref_id"),
        text_of(text).label("text"),
        text_of(state).label("state"),
        text_of(who).label("who"),
        text_of(extra).label("extra"),
    ]


Part = tuple[sa.Select[tuple[object, ...]], sa.ColumnElement[datetime], sa.ColumnElement[int]]


def _out(column: sa.ColumnElement[int], name: str) -> sa.ColumnElement[bool]:
    """`column` not among the card's own event's rows (a list bound at execution)."""
    return column.not_in(sa.bindparam(name, expanding=True, type_=sa.Integer))


def _parts(before: bool) -> dict[Kind, Part]:
    """Per kind: its select for one client (`:client_id`), its time column and its row id."""
    client_id = sa.bindparam("client_id", type_=sa.Integer)
    person = aliased(Employee)
    stage = aliased(PipelineStage)
    leads = (
        sa.select(
            *_columns(
                Kind.LEAD, Lead.created_at, Lead.id, Lead.id, Lead.source, Lead.status, person.name
            )
        )
        .outerjoin(person, person.id == Lead.assignee_id)
        .where(Lead.client_id == client_id, _out(Lead.id, "out_leads"))
    )
    calls = (
        sa.select(
            *_columns(
                Kind.CALL,
                Call.started_at,
                Call.id,
                Call.id,
                Call.direction,
                Call.status,
                person.name,
            )
        )
        .outerjoin(person, person.id == Call.employee_id)
        .where(
            Call.client_id == client_id,
            Call.started_at.is_not(None),
            _out(Call.id, "out_calls"),
        )
    )
    if before:
        leads = leads.where(Lead.id < sa.bindparam("before_id", type_=sa.Integer))
        calls = calls.where(Call.started_at <= sa.bindparam("before_at", type_=UTCDateTime()))
    tasks = (
        sa.select(
            *_columns(
                Kind.TASK,
                Task.created_at,
                Task.id,
                Task.id,
                Task.title,
                Task.status,
                person.name,
                Task.kind,
            )
        )
        .outerjoin(person, person.id == Task.assignee_id)
        .where(Task.client_id == client_id, _out(Task.id, "out_tasks"))
    )
    deals = (
        sa.select(
            *_columns(
                Kind.DEAL,
                Deal.created_at,
                Deal.id,
                Deal.id,
                Deal.title,
                stage.name,
                person.name,
                Deal.amount,
            )
        )
        .join(stage, stage.id == Deal.stage_id)
        .outerjoin(person, person.id == Deal.owner_id)
        .where(Deal.client_id == client_id, _out(Deal.id, "out_deals"))
    )
    moves = (
        sa.select(
            *_columns(
                Kind.STAGE,
                DealStageChange.at,
                DealStageChange.id,
                Deal.id,
                Deal.title,
                stage.name,
                person.name,
                stage.kind,
            )
        )
        .join(Deal, Deal.id == DealStageChange.deal_id)
        .join(stage, stage.id == DealStageChange.to_stage_id)
        .outerjoin(person, person.id == DealStageChange.by_id)
        # A deal's first stage is its opening, shown by the deal's own entry.
        .where(
            Deal.client_id == client_id,
            DealStageChange.from_stage_id.is_not(None),
            _out(Deal.id, "out_deals"),
        )
    )
    notes = (
        sa.select(
            *_columns(Kind.NOTE, Note.created_at, Note.id, Note.id, Note.text, None, person.name)
        )
        .outerjoin(person, person.id == Note.author_id)
        .where(Note.client_id == client_id)
    )
    messages = (
        sa.select(
            *_columns(
                Kind.MESSAGE,
                Message.created_at,
                Message.id,
                Message.id,
                Message.text,
                Message.direction,
                person.name,
            )
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(person, person.id == Message.author_employee_id)
        .where(Conversation.client_id == client_id)
    )
    return {
        Kind.LEAD: (leads, Lead.created_at, Lead.id),
        Kind.CALL: (calls, Call.started_at, Call.id),
        Kind.TASK: (tasks, Task.created_at, Task.id),
        Kind.DEAL: (deals, Deal.created_at, Deal.id),
        Kind.STAGE: (moves, DealStageChange.at, DealStageChange.id),
        Kind.NOTE: (notes, Note.created_at, Note.id),
        Kind.MESSAGE: (messages, Message.created_at, Message.id),
    }


CONTACTS = frozenset({Kind.LEAD, Kind.CALL})


async def of_client(
    session: AsyncSession,
    client_id: int,
    *,
    leaving_out: Event = NOTHING,
    before: Lead | None = None,
) -> Timeline:
    """The client's newest contacts (leads and calls), open deals and open tasks, without
    `leaving_out`; with `before`, only contacts up to that lead (a lead card's "contacted
    before")."""
    return Timeline(
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
