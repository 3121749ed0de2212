"""Marking many new leads non-target or spam at once (a flood from one form, a robot's calls):
counted first, applied in one transaction, undone for 24 hours (services.bulk.engine).

Each lead closes as `services.leads.actions.reject` closes one: its status, the reason code,
who closed it and when; it stays in the reports. It is not a response to the lead (a clean-up
days later is nobody's reaction time), so response times are left as they were. Every copy of
each card in Telegram is edited to show it closed (no more Take buttons); each assignee gets
one summary, not a message per lead. Undo makes new again the leads still as it left them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import BulkOperation, BulkOperationRow, Lead, LeadStatus
from services import notify
from services.actors import Actor
from services.bulk import engine, undoing
from services.bulk.engine import Chosen
from services.bulk.undoing import Undone
from services.context import Company
from services.leads import reasons

REJECT = "reject"
LEAD = "lead"
_L, _R = Lead.__table__, BulkOperationRow.__table__


@dataclass(frozen=True)
class RejectPlan:
    status: LeadStatus  # non-target or spam
    reason: str  # a code of services.leads.reasons
    closing: int  # new ones: they close
    processed: int  # taken or closed already: they stay as they are


async def plan(
    session: AsyncSession, chosen: Chosen, *, status: LeadStatus, reason: str
) -> RejectPlan:
    reasons.check(status, reason)
    is_new = _L.c.status == LeadStatus.NEW
    counts = sa.select(engine.count_of(is_new), engine.count_of(sa.not_(is_new))).where(
        _L.c.id.in_(chosen)
    )
    closing, processed = (await session.execute(counts)).one()
    return RejectPlan(status, reason, int(closing), int(processed))


async def apply(
    session: AsyncSession,
    chosen: Chosen,
    *,
    status: LeadStatus,
    reason: str,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """Close the chosen new leads as `status` for `reason`; the operation's id. Conflict,
    with nothing written, when the count is no longer the `expected` one."""
    reasons.check(status, reason)
    now = company.clock.now()
    op_id = await engine.start(
        session, LEAD, by, now, action=REJECT, status=str(status), reason=reason
    )
    closing = (
        sa.select(_L.c.id, _L.c.assignee_id, _L.c.status)
        .where(_L.c.id.in_(chosen), _L.c.status == LeadStatus.NEW)
        .with_for_update(of=_L)
        .subquery()
    )
    rows = sa.select(sa.literal(op_id, sa.BigInteger), sa.literal(LEAD), *closing.c)
    columns = ["operation_id", "entity_type", "entity_id", "holder_id", "status"]
    await session.execute(sa.insert(_R).from_select(columns, rows))
    count = engine.as_counted(await engine.count_rows(session, op_id, LEAD), expected)
    await session.execute(
        sa.update(_L)
        .where(_L.c.id.in_(engine.ids(op_id, LEAD)))
        .values(status=status, close_reason=reason, closed_at=now, closed_by_id=by.id)
        .values(updated_at=now)
    )
    params = {"status": str(status), "reason": reason, "counts": {LEAD: count}}
    await engine.finish(
        session,
        op_id,
        action="bulk.leads_rejected",
        count=count,
        params=params,
        by=by,
        now=now,
        status=str(status),
        reason=reason,
    )
    marked = (
        await session.execute(
            sa.select(_R.c.entity_id, _R.c.holder_id).where(
                _R.c.operation_id == op_id, _R.c.entity_type == LEAD
            )
        )
    ).all()
    await notify.leads_changed(session, lead_ids=[lead_id for lead_id, _ in marked], now=now)
    holders = Counter(who for _id, who in marked if who is not None)
    told = {who: ("leads_rejected", {LEAD: n}) for who, n in holders.items()}
    await engine.tell(session, op_id, told, by, company, status=str(status))
    return op_id


async def _undo(
    session: AsyncSession, op: BulkOperation, _by: Actor, now: datetime
) -> tuple[Undone, dict[int, tuple[str, dict[str, int]]], dict[str, Any]]:
    """Leads the operation closed that nobody has reopened or closed again since: new again,
    their cards with the buttons back."""
    status = LeadStatus(op.params["status"])
    stmt = (
        sa.update(_L)
        .where(_L.c.id.in_(engine.ids(op.id, LEAD)))
        .where(_L.c.status == status, _L.c.closed_at == op.at)
        .values(status=LeadStatus.NEW, close_reason=None, closed_at=None, closed_by_id=None)
        .values(updated_at=now)
        .returning(_L.c.id, _L.c.assignee_id)
    )
    back = (await session.execute(stmt)).all()
    await notify.leads_changed(session, lead_ids=[lead_id for lead_id, _ in back], now=now)
    holders = Counter(who for _id, who in back if who is not None)
    told = {who: ("leads_renewed", {LEAD: n}) for who, n in holders.items()}
    undone = Undone({LEAD: len(back)}, {LEAD: op.count - len(back)})
    return undone, told, {"status": str(status)}


undoing.UNDOERS[REJECT] = _undo
