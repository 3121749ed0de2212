"""The admin web's deal list: deals matching a filter, sorted, a page at a time by key
(services.listing). The same filter says which deals a bulk change (services.bulk) touches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from models import Client, Deal, DealStatus, Employee, Office, Pipeline, PipelineStage
from models.text import folded
from services import listing
from services.clients import timeline
from services.clients.matching import searchable
from services.errors import NotFound

PAGE_SIZE = 50
_OWNER = aliased(Employee, name="owner")


class DealSort(StrEnum):
    NEWEST = "new"
    OLDEST = "old"
    AMOUNT_DOWN = "amount"
    AMOUNT_UP = "amount_up"


_AMOUNT = sa.func.coalesce(Deal.amount, 0)
ORDERS = {
    DealSort.NEWEST: listing.Order(None, descending=True),
    DealSort.OLDEST: listing.Order(None, descending=False),
    DealSort.AMOUNT_DOWN: listing.Order(_AMOUNT, descending=True, read=listing.decimal),
    DealSort.AMOUNT_UP: listing.Order(_AMOUNT, descending=False, read=listing.decimal),
}


@dataclass(frozen=True)
class DealFilter:
    """Deals of an owner, an office (the deal's own, else its owner's), a pipeline, a stage,
    a status; created from `since` to before `until`; with words in the title or the client's
    name, phone or e-mail."""

    owner_id: int | None = None
    office_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    status: DealStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    ids: tuple[int, ...] | None = None  # these deals only (rows ticked in the list)


def conditions(shown: DealFilter) -> list[ColumnElement[bool]]:
    """`shown` as conditions on Deal alone."""
    found: list[ColumnElement[bool]] = []
    if shown.ids is not None:
        found.append(Deal.id.in_(shown.ids))
    if shown.owner_id is not None:
        found.append(Deal.owner_id == shown.owner_id)
    if shown.pipeline_id is not None:
        found.append(Deal.pipeline_id == shown.pipeline_id)
    if shown.stage_id is not None:
        found.append(Deal.stage_id == shown.stage_id)
    if shown.status is not None:
        found.append(Deal.status == shown.status)
    if shown.since is not None:
        found.append(Deal.created_at >= shown.since)
    if shown.until is not None:
        found.append(Deal.created_at < shown.until)
    if shown.text and shown.text.strip():
        words = f"%{listing.escaped(searchable(shown.text))}%"
        clients = sa.select(Client.id).where(Client.search_text.like(words, escape="\\"))
        other = aliased(Deal)  # a union of two indexed searches, not an OR over every deal
        either = sa.union(
            sa.select(other.id).where(other.client_id.in_(clients)),
            sa.select(other.id).where(folded(other.title).like(words, escape="\\")),
        )
        found.append(Deal.id.in_(either))
    if shown.office_id is not None:
        found.append(listing.in_office(Deal.office_id, Deal.owner_id, shown.office_id))
    return found


def matching(shown: DealFilter) -> sa.Select[tuple[int]]:
    """The ids of the deals `shown` picks (for an IN, or to count)."""
    return (
        sa.select(Deal.id).outerjoin(_OWNER, _OWNER.id == Deal.owner_id).where(*conditions(shown))
    )


@dataclass(frozen=True)
class DealRow:
    id: int
    created_at: datetime
    title: str
    client_id: int
    client_name: str | None
    stage: str
    status: DealStatus
    amount: Decimal | None
    currency: str
    owner: str | None
    office: str | None


async def page(
    session: AsyncSession,
    shown: DealFilter,
    *,
    sort: DealSort = DealSort.NEWEST,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> listing.Page[DealRow]:
    order = ORDERS[sort]
    window = listing.window(order, Deal.id, conditions(shown), after, size)
    stmt = (
        sa.select(
            Deal.id,
            Deal.created_at,
            Deal.title,
            Deal.client_id,
            Client.name,
            PipelineStage.name,
            Deal.status,
            Deal.amount,
            Deal.currency,
            _OWNER.name,
            Office.name,
            window.c.sort_key,
        )
        .select_from(window)
        .join(Deal, Deal.id == window.c.id)
        .join(Client, Client.id == Deal.client_id)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .outerjoin(_OWNER, _OWNER.id == Deal.owner_id)
        .outerjoin(Office, Office.id == Deal.office_id)
        .order_by(*listing.in_order(window, order))
    )
    return await listing.fetch(session, stmt, order, size, DealRow)


@dataclass(frozen=True)
class Choice:
    id: int
    name: str
    group: str | None = None  # a stage's pipeline, a person's office


@dataclass(frozen=True)
class Choices:
    """What the list's filters and bulk form offer someone limited to `office_id` (None:
    everyone): stages of every pipeline, active people, offices."""

    stages: list[Choice]
    people: list[Choice]
    offices: list[Choice]


async def choices(session: AsyncSession, *, office_id: int | None) -> Choices:
    stages = (
        sa.select(PipelineStage.id, PipelineStage.name, Pipeline.name)
        .join(Pipeline, Pipeline.id == PipelineStage.pipeline_id)
        .order_by(Pipeline.is_default.desc(), Pipeline.id, PipelineStage.position)
    )
    people = (
        sa.select(Employee.id, Employee.name, Office.name)
        .outerjoin(Office, Office.id == Employee.office_id)
        .where(Employee.is_active)
        .order_by(Employee.name, Employee.id)
    )
    offices = sa.select(Office.id, Office.name).order_by(Office.name)
    if office_id is not None:
        people = people.where(Employee.office_id == office_id)
        offices = offices.where(Office.id == office_id)
    return Choices(
        [Choice(*row) for row in (await session.execute(stages)).all()],
        [Choice(*row) for row in (await session.execute(people)).all()],
        [Choice(*row) for row in (await session.execute(offices)).all()],
    )


@dataclass(frozen=True)
class DealRecord:
    """One deal as the admin web's record page shows it, with its client's timeline."""

    row: DealRow
    lost_reason: str | None
    history: list[timeline.Entry]


async def record(
    session: AsyncSession, deal_id: int, *, office_id: int | None = None, history_size: int = 50
) -> DealRecord:
    """NotFound when there is no such deal, or (`office_id`: a manager's) it is another
    office's."""
    found = await page(session, DealFilter(office_id=office_id, ids=(deal_id,)), size=1)
    if not found.rows:
        raise NotFound(f"no deal {deal_id}", key="web.not_found")
    row = found.rows[0]
    reason = await session.scalar(sa.select(Deal.lost_reason).where(Deal.id == deal_id))
    history = await timeline.entries(session, row.client_id, limit=history_size)
    return DealRecord(row, reason, history)
