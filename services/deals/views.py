"""What the screens show about deals: one deal's card and history, and totals by stage or by
employee (aggregated in SQL, never by looping over deals)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from models import (
    Client,
    Deal,
    DealStageChange,
    DealStatus,
    Employee,
    PipelineStage,
    Role,
)
from models.prepared import Prepared
from services import access
from services.actors import Actor
from services.deals import pipeline
from services.deals.pipeline import Stage
from services.errors import AccessDenied, NotFound

PAGE_SIZE = 10
RECENT_MOVES = 3


@dataclass(frozen=True)
class StageMove:
    at: datetime
    from_stage: str | None  # None: the deal was created
    to_stage: str
    by: str | None


@dataclass(frozen=True)
class DealCard:
    id: int
    title: str
    client_id: int
    client_name: str | None
    stage: Stage
    status: DealStatus
    amount: Decimal | None
    cost: Decimal | None
    currency: str
    owner: str | None
    created_at: datetime
    stage_changed_at: datetime | None
    closed_at: datetime | None
    lost_reason: str | None
    recent: list[StageMove]
    stages: list[Stage]  # the deal's pipeline, in order

    @property
    def gross_profit(self) -> Decimal | None:
        if self.amount is None:
            return None
        return self.amount - (self.cost or Decimal(0))


@dataclass(frozen=True)
class StageTotal:
    stage: Stage
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Summary:
    """Totals by stage of one employee's deals (`employee` their name) or the office's."""

    employee: str | None
    stages: list[StageTotal]


@dataclass(frozen=True)
class EmployeeTotal:
    employee_id: int
    name: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class DealLine:
    id: int
    title: str
    amount: Decimal | None


@dataclass(frozen=True)
class DealPage:
    stage: Stage
    deals: list[DealLine]
    page: int
    has_more: bool


async def card(session: AsyncSession, deal_id: int, *, by: Actor) -> DealCard:
    """The card of a deal `by` may work on."""
    deal = await _card().first(session, {"deal_id": deal_id})
    if deal is None:
        raise NotFound("no such deal", key="deal.not_found")
    access.require_deal(by, owner_id=deal.owner_id, office_id=deal.office_id)
    stages = await pipeline.stages(session, deal.pipeline_id)
    [stage] = [s for s in stages if s.id == deal.stage_id]
    return DealCard(
        id=deal.id,
        title=deal.title,
        client_id=deal.client_id,
        client_name=deal.client_name or deal.client_company,
        stage=stage,
        status=deal.status,
        amount=deal.amount,
        cost=deal.cost,
        currency=deal.currency,
        owner=deal.owner,
        created_at=deal.created_at,
        stage_changed_at=deal.stage_changed_at,
        closed_at=deal.closed_at,
        lost_reason=deal.lost_reason,
        recent=await _moves(session, deal.id, RECENT_MOVES),
        stages=stages,
    )


@cache  # built once: building a statement costs more than running this one
def _card() -> Prepared:
    d = Deal.__table__
    return Prepared(
        sa.select(
            *(
                d.c[name]
                for name in (
                    "id title client_id pipeline_id stage_id status amount cost currency "
                    "owner_id office_id created_at stage_changed_at closed_at lost_reason"
                ).split()
            ),
            Client.name.label("client_name"),
            Client.company.label("client_company"),
            Employee.name.label("owner"),
        )
        .join(Client, Client.id == Deal.client_id)
        .outerjoin(Employee, Employee.id == Deal.owner_id)
        .where(Deal.id == sa.bindparam("deal_id", type_=sa.BigInteger))
    )


async def history(
    session: AsyncSession, deal_id: int, *, by: Actor, limit: int = 30
) -> list[StageMove]:
    """The deal's stage moves, newest first, with who and when."""
    deal = await session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("no such deal", key="deal.not_found")
    access.require_deal(by, owner_id=deal.owner_id, office_id=deal.office_id)
    return await _moves(session, deal_id, limit)


async def by_stage(session: AsyncSession, *, by: Actor, employee_id: int = 0) -> Summary:
    """Counts and sums per stage of the default pipeline: `employee_id`'s deals, or (0) the
    deals of `by`'s office (managers; all for an admin)."""
    scope, params, name = await _scope(session, by, employee_id)
    params["pipeline_id"] = await pipeline.default_pipeline_id(session)
    rows = await _by_stage(scope).all(session, params)
    return Summary(
        name,
        [
            StageTotal(Stage(id_, stage, kind, position), count, Decimal(total))
            for id_, stage, kind, position, count, total in rows
        ],
    )


@cache  # one per scope (see _scope)
def _by_stage(scope: str) -> Prepared:
    # The scope's deals summed per stage first (an office's from the index of office, stage
    # and amount alone: migration 0014), then joined to the pipeline's stages.
    totals = (
        sa.select(
            Deal.stage_id,
            sa.func.count().label("count"),
            sa.func.sum(Deal.amount).label("total"),
        )
        .where(_scope_clause(scope))
        .group_by(Deal.stage_id)
        .subquery()
    )
    return Prepared(
        sa.select(
            PipelineStage.id,
            PipelineStage.name,
            PipelineStage.kind,
            PipelineStage.position,
            sa.func.coalesce(totals.c.count, 0),
            sa.func.coalesce(totals.c.total, 0),
        )
        .outerjoin(totals, totals.c.stage_id == PipelineStage.id)
        .where(PipelineStage.pipeline_id == sa.bindparam("pipeline_id", type_=sa.BigInteger))
        .order_by(PipelineStage.position)
    )


async def by_employee(session: AsyncSession, *, by: Actor) -> list[EmployeeTotal]:
    """The open deals of `by`'s office per owner (managers; all for an admin)."""
    scope, params, _ = await _scope(session, by, 0)
    total = sa.func.coalesce(sa.func.sum(Deal.amount), 0)
    stmt = (
        sa.select(Employee.id, Employee.name, sa.func.count(Deal.id), total)
        .join(Deal, Deal.owner_id == Employee.id)
        .where(_scope_clause(scope), Deal.status == DealStatus.OPEN)
        .group_by(Employee.id, Employee.name)
        .order_by(total.desc(), Employee.name)
        .limit(50)
    )
    return [
        EmployeeTotal(id_, name, count, Decimal(amount))
        for id_, name, count, amount in await session.execute(stmt, params)
    ]


async def stage_deals(
    session: AsyncSession, stage_id: int, *, by: Actor, employee_id: int = 0, page: int = 0
) -> DealPage:
    """One page of the deals at a stage, in the same scope as `by_stage`."""
    scope, params, _ = await _scope(session, by, employee_id)
    found = await session.get(PipelineStage, stage_id)
    if found is None:
        raise NotFound("no such stage", key="deal.bad_stage")
    stmt = (
        sa.select(Deal.id, Deal.title, Deal.amount)
        .where(Deal.stage_id == stage_id, _scope_clause(scope))
        .order_by(Deal.stage_changed_at.desc(), Deal.id.desc())
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    lines = [DealLine(*row) for row in await session.execute(stmt, params)]
    stage = Stage(found.id, found.name, found.kind, found.position)
    return DealPage(stage, lines[:PAGE_SIZE], page, len(lines) > PAGE_SIZE)


# --- inside


async def _scope(
    session: AsyncSession, by: Actor, employee_id: int
) -> tuple[str, dict[str, Any], str | None]:
    """Which deals a list shows, as a scope (`_scope_clause`), its values and the employee's
    name: one employee's (themselves, or for their managers), or the office's (managers;
    everything for an admin or a manager without an office)."""
    if employee_id:
        if employee_id == by.id:
            return "employee", {SCOPE_EMPLOYEE: employee_id}, by.name
        found = (
            await session.execute(
                sa.select(Employee.office_id, Employee.name).where(Employee.id == employee_id)
            )
        ).one_or_none()
        if found is None:
            raise NotFound("no such employee", key="deal.no_access")
        if not access.can_see_employee_deals(
            by, employee_office_id=found.office_id, employee_id=employee_id
        ):
            raise AccessDenied("not your colleague's deals", key="deal.no_access")
        return "employee", {SCOPE_EMPLOYEE: employee_id}, found.name
    if not access.can_see_office_deals(by):
        raise AccessDenied("only managers see the office's deals", key="deal.no_access")
    if by.role is Role.ADMIN or by.office_id is None:
        return "all", {}, None
    return "office", {SCOPE_OFFICE: by.office_id}, None


SCOPE_EMPLOYEE, SCOPE_OFFICE = "scope_employee", "scope_office"


@cache  # one clause per scope, built once; its values are bound at execution
def _scope_clause(scope: str) -> ColumnElement[bool]:
    if scope == "employee":
        return Deal.owner_id == sa.bindparam(SCOPE_EMPLOYEE, type_=sa.BigInteger)
    if scope == "office":
        return Deal.office_id == sa.bindparam(SCOPE_OFFICE, type_=sa.BigInteger)
    return sa.true()


async def _moves(session: AsyncSession, deal_id: int, limit: int) -> list[StageMove]:
    params = {"deal_id": deal_id, "limit": limit}
    return [StageMove(*row) for row in await _moves_statement().all(session, params)]


@cache
def _moves_statement() -> Prepared:
    before, after = aliased(PipelineStage), aliased(PipelineStage)
    return Prepared(
        sa.select(DealStageChange.at, before.name, after.name, Employee.name)
        .join(after, after.id == DealStageChange.to_stage_id)
        .outerjoin(before, before.id == DealStageChange.from_stage_id)
        .outerjoin(Employee, Employee.id == DealStageChange.by_id)
        .where(DealStageChange.deal_id == sa.bindparam("deal_id", type_=sa.BigInteger))
        .order_by(DealStageChange.at.desc(), DealStageChange.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
