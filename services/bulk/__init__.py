"""Bulk changes from the admin web: many deals, or many clients with what is theirs, given to
another employee at once (deals moved to a stage, a task for each, tasks closed: their own
modules); counted first, applied in one transaction, undone within 24 hours
(services.bulk.engine). The chosen records are a list's filter, or rows ticked in it, always
within what the person may change (a manager: their office). New leads are marked non-target or
spam in bulk (services.bulk.rejecting); deals, tasks and clients are deleted in bulk, by
admins (services.bulk.deleting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, LeadStatus, TaskStatus
from services import access
from services.actors import Actor
from services.bulk import closing, deleting, engine, following, rejecting, stages, tasks
from services.bulk.engine import SUMMARY, UNDO_FOR, Plan, Target
from services.bulk.kinds import CARRIED, CLIENT, DEAL, LEAD, ORDER, TASK, Kind
from services.bulk.undoing import Undone, undo
from services.bulk.views import OperationView, operation, recent
from services.clients import lists as client_lists
from services.context import Company
from services.deals import lists as deal_lists
from services.errors import InvalidInput
from services.leads import table as lead_table
from services.tasks import table as task_table

Shown = (
    deal_lists.DealFilter
    | client_lists.ClientFilter
    | task_table.TaskFilter
    | lead_table.LeadFilter
)
engine.FOLLOW[LEAD.name] = following.leads

__all__ = [
    "CARRIED",
    "ORDER",
    "SUMMARY",
    "UNDO_FOR",
    "ClosePlan",
    "DeletePlan",
    "OperationView",
    "Plan",
    "RejectPlan",
    "Target",
    "Undone",
    "close_tasks",
    "delete",
    "move_deals",
    "operation",
    "plan_close",
    "plan_delete",
    "plan_move",
    "plan_reassign",
    "plan_reject",
    "plan_tasks",
    "reassign",
    "recent",
    "reject_leads",
    "task_for_each",
    "undo",
]


async def plan_reassign(
    session: AsyncSession, shown: Shown, *, to: int, carry: Sequence[str] = (), by: Actor
) -> Plan:
    kind, chosen = _chosen(shown, by)
    return await engine.plan(session, kind, chosen, to=to, carry=carry, by=by)


async def reassign(
    session: AsyncSession,
    shown: Shown,
    *,
    to: int,
    carry: Sequence[str] = (),
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """The chosen open records to `to`, with what `carry` names of what goes along
    (services.bulk.kinds.CARRIED: a deal's open tasks; a client's open deals, open tasks and
    conversations that their owner held, conversations also when nobody was given them)."""
    kind, chosen = _chosen(shown, by)
    if kind is LEAD:
        await _reachable(session, to)
    return await engine.apply(
        session, kind, chosen, to=to, carry=carry, expected=expected, by=by, company=company
    )


async def _reachable(session: AsyncSession, to: int) -> None:
    """Leads go only to someone who will see their cards: Telegram bound (as in chat)."""
    found = await session.get(Employee, to)
    if found is not None and found.telegram_id is None:
        raise InvalidInput(
            f"{found.name} has not bound Telegram and would never see the cards",
            key="queue.assignee_no_telegram",
            name=found.name,
        )


async def plan_move(
    session: AsyncSession, shown: deal_lists.DealFilter, *, stage_id: int, by: Actor
) -> stages.MovePlan:
    _kind, chosen = _chosen(shown, by)
    return await stages.plan(session, chosen, stage_id=stage_id)


async def move_deals(
    session: AsyncSession,
    shown: deal_lists.DealFilter,
    *,
    stage_id: int,
    reason: str | None = None,
    reason_text: str | None = None,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """The chosen open deals to one stage of their pipeline; to a won or lost one closes them
    (a lost one with `reason`, as in chat)."""
    _kind, chosen = _chosen(shown, by)
    return await stages.apply(
        session,
        chosen,
        stage_id=stage_id,
        reason=reason,
        reason_text=reason_text,
        expected=expected,
        by=by,
        company=company,
    )


async def plan_tasks(
    session: AsyncSession,
    shown: Shown,
    *,
    assignee_id: int | None,
    by: Actor,
) -> tasks.TaskPlan:
    kind, chosen = _chosen(shown, by)
    return await tasks.plan(session, kind, chosen, assignee_id=assignee_id, by=by)


async def task_for_each(
    session: AsyncSession,
    shown: Shown,
    *,
    title: str,
    due_at: datetime,
    assignee_id: int | None,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """A task for each chosen open deal (or client), for its owner or for `assignee_id`."""
    kind, chosen = _chosen(shown, by)
    return await tasks.apply(
        session,
        kind,
        chosen,
        title=title,
        due_at=due_at,
        assignee_id=assignee_id,
        expected=expected,
        by=by,
        company=company,
    )


ClosePlan = closing.ClosePlan


async def plan_close(
    session: AsyncSession, shown: task_table.TaskFilter, *, status: TaskStatus, by: Actor
) -> closing.ClosePlan:
    _kind, chosen = _chosen(shown, by)
    return await closing.plan(session, chosen, status=status)


async def close_tasks(
    session: AsyncSession,
    shown: task_table.TaskFilter,
    *,
    status: TaskStatus,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """The chosen open tasks done or cancelled at once; each assignee told once."""
    _kind, chosen = _chosen(shown, by)
    return await closing.apply(
        session,
        chosen,
        status=status,
        expected=expected,
        by=by,
        company=company,
    )


DeletePlan = deleting.DeletePlan


Deletable = deal_lists.DealFilter | task_table.TaskFilter | client_lists.ClientFilter


async def plan_delete(session: AsyncSession, shown: Deletable, *, by: Actor) -> deleting.DeletePlan:
    access.require_delete_in_bulk(by)
    kind, chosen = _chosen(shown, by)
    return await deleting.plan(session, kind.name, chosen)


async def delete(
    session: AsyncSession,
    shown: Deletable,
    *,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """The chosen deals (open or closed, with their tasks, notes and stage moves), tasks
    (with their notes) or clients (with everything of theirs) out of every list, card,
    reminder and report; undo within 24 hours puts them back."""
    access.require_delete_in_bulk(by)
    kind, chosen = _chosen(shown, by)
    return await deleting.apply(
        session, kind.name, chosen, expected=expected, by=by, company=company
    )


RejectPlan = rejecting.RejectPlan


async def plan_reject(
    session: AsyncSession,
    shown: lead_table.LeadFilter,
    *,
    status: LeadStatus,
    reason: str,
    by: Actor,
) -> rejecting.RejectPlan:
    _kind, chosen = _chosen(shown, by)
    return await rejecting.plan(session, chosen, status=status, reason=reason)


async def reject_leads(
    session: AsyncSession,
    shown: lead_table.LeadFilter,
    *,
    status: LeadStatus,
    reason: str,
    expected: int,
    by: Actor,
    company: Company,
) -> int:
    """The chosen new leads non-target or spam at once, for one reason; their cards show it,
    each assignee told once."""
    _kind, chosen = _chosen(shown, by)
    return await rejecting.apply(
        session,
        chosen,
        status=status,
        reason=reason,
        expected=expected,
        by=by,
        company=company,
    )


def _chosen(shown: Shown, by: Actor) -> tuple[Kind, engine.Chosen]:
    """What kind of record the filter picks and the ids it picks, within what `by` may
    change in bulk (a 404 for anyone else; a manager: their office)."""
    access.require_bulk(by)
    if isinstance(shown, deal_lists.DealFilter):
        return DEAL, deal_lists.matching(_scoped(shown, by))
    if isinstance(shown, task_table.TaskFilter):
        return TASK, task_table.matching(_scoped(shown, by))
    if isinstance(shown, lead_table.LeadFilter):
        return LEAD, lead_table.matching(_scoped(shown, by))
    return CLIENT, client_lists.matching(_scoped(shown, by))


Filter = TypeVar(
    "Filter",
    deal_lists.DealFilter,
    client_lists.ClientFilter,
    task_table.TaskFilter,
    lead_table.LeadFilter,
)


def _scoped(shown: Filter, by: Actor) -> Filter:
    """A manager's choice is always within their office, whatever the form said."""
    office = access.office_limit(by)
    return shown if office is None else replace(shown, office_id=office)
