"""A client's timeline: the one way every card reads a client's history.

Leads, calls, deals (opened, moved between stages, won or lost, with who and when), tasks,
notes and messages, newest first, a page at a time (`page`). Each table gives its newest
rows for the client through an index on (client, time), limited to what the page needs; one
UNION ALL puts them in order. Lead, call and task cards read the same entries
(`services.clients.history`), leaving out the rows of the event the card is about (`Event`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Call,
    Conversation,
    Deal,
    DealStageChange,
    Employee,
    Lead,
    Message,
    Note,
    PipelineStage,
    Task,
)
from models.base import UTCDateTime
from models.prepared import Prepared, in_bound
from services.errors import NotFound

PAGE_SIZE = 6  # entries on a page of the client card


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
    arrays = session.get_bind().dialect.name == "postgresql"
    rows = await _statement(kinds, before is not None, arrays).all(session, params)
    return [Entry(r.at, Kind(r.kind), r.ref_id, r.text, r.state, r.who, r.extra) for r in rows]


@cache  # built once per shape: building this statement costs more than running it
def _statement(kinds: frozenset[Kind], before: bool, arrays: bool) -> Prepared:
    """`arrays`: the rows left out are bound as arrays (PostgreSQL), not as IN lists."""
    take = sa.bindparam("take", type_=sa.Integer)
    parts = [
        sa.select(*sub.c)
        for sub in (
            part.order_by(at.desc(), row.desc()).limit(take).subquery()
            for kind, (part, at, row) in _parts(before, arrays).items()
            if kind in kinds
        )
    ]
    union = sa.union_all(*parts).subquery()
    return Prepared(
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


def _out(column: sa.ColumnElement[int], name: str, arrays: bool) -> sa.ColumnElement[bool]:
    """`column` not among the card's own event's rows (a list bound at execution)."""
    return in_bound(column, name, sa.BigInteger(), arrays=arrays, negate=True)


def _parts(before: bool, arrays: bool) -> dict[Kind, Part]:
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
        .where(Lead.client_id == client_id, _out(Lead.id, "out_leads", arrays))
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
            _out(Call.id, "out_calls", arrays),
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
        .where(Task.client_id == client_id, _out(Task.id, "out_tasks", arrays))
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
        .where(Deal.client_id == client_id, _out(Deal.id, "out_deals", arrays))
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
            _out(Deal.id, "out_deals", arrays),
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
