"""What staff see about a client on a call or task card: who they are, whose, and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Call,
    CallStatus,
    Client,
    Deal,
    DealStatus,
    Direction,
    Employee,
    Lead,
    PhoneLine,
    PipelineStage,
    Task,
    TaskStatus,
)
from services.errors import NotFound

RECENT = 5


@dataclass(frozen=True)
class Contact:
    at: datetime
    kind: str  # "lead" or "call"
    detail: str  # the lead's source, or the call's direction and outcome


@dataclass(frozen=True)
class ClientSummary:
    client_id: int
    name: str | None
    owner: str | None
    recent: list[Contact] = field(default_factory=list)
    open_deals: list[tuple[str, str, Decimal | None]] = field(default_factory=list)
    open_tasks: list[tuple[str, str, datetime | None]] = field(default_factory=list)  # kind, title


async def summary(
    session: AsyncSession, client_id: int, *, except_call: int | None = None
) -> ClientSummary:
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound("no such client", client_id=client_id)
    owner = await session.get(Employee, client.owner_id) if client.owner_id else None
    return ClientSummary(
        client.id,
        client.name,
        owner.name if owner else None,
        await _recent(session, client_id, except_call),
        await _open_deals(session, client_id),
        await _open_tasks(session, client_id),
    )


async def _recent(session: AsyncSession, client_id: int, except_call: int | None) -> list[Contact]:
    leads = await session.execute(
        sa.select(Lead.created_at, Lead.source)
        .where(Lead.client_id == client_id)
        .order_by(Lead.id.desc())
        .limit(RECENT)
    )
    calls = await session.execute(
        sa.select(Call.started_at, Call.direction, Call.status)
        .where(
            Call.client_id == client_id, Call.id != (except_call or 0), Call.started_at.is_not(None)
        )
        .order_by(Call.started_at.desc())
        .limit(RECENT)
    )
    contacts = [Contact(at, "lead", source) for at, source in leads.all()]
    contacts += [
        Contact(at, "call", f"{direction.value}:{status.value}")
        for at, direction, status in calls.all()
    ]
    return sorted(contacts, key=lambda c: c.at, reverse=True)[:RECENT]


async def _open_deals(
    session: AsyncSession, client_id: int
) -> list[tuple[str, str, Decimal | None]]:
    rows = await session.execute(
        sa.select(Deal.title, PipelineStage.name, Deal.amount)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(Deal.client_id == client_id, Deal.status == DealStatus.OPEN)
        .order_by(Deal.id)
        .limit(RECENT)
    )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def _open_tasks(
    session: AsyncSession, client_id: int
) -> list[tuple[str, str, datetime | None]]:
    rows = await session.execute(
        sa.select(Task.kind, Task.title, Task.due_at)
        .where(Task.client_id == client_id, Task.status == TaskStatus.OPEN)
        .order_by(Task.due_at)
        .limit(RECENT)
    )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


@dataclass(frozen=True)
class CallCard:
    call_id: int
    direction: Direction
    phase: str
    status: CallStatus
    number: str | None
    line: str | None
    employee: str | None
    talk_seconds: int
    recording_url: str | None
    recording_id: str | None
    client: ClientSummary | None


async def call_card(session: AsyncSession, call_id: int) -> CallCard:
    call = await session.get(Call, call_id, populate_existing=True)
    if call is None:
        raise NotFound("no such call", call_id=call_id)
    line = await session.get(PhoneLine, call.line_id) if call.line_id else None
    employee = await session.get(Employee, call.employee_id) if call.employee_id else None
    client = await summary(session, call.client_id, except_call=call.id) if call.client_id else None
    return CallCard(
        call.id,
        call.direction,
        call.phase.value,
        call.status,
        call.client_number,
        (line.source or line.name) if line else call.line_number,
        employee.name if employee else None,
        call.talk_seconds,
        call.recording_url,
        call.recording_id,
        client,
    )


@dataclass(frozen=True)
class TaskCard:
    task_id: int
    title: str
    status: TaskStatus
    due_at: datetime | None
    assignee: str | None
    client: ClientSummary | None


async def task_card(session: AsyncSession, task_id: int) -> TaskCard:
    task = await session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise NotFound("no such task", task_id=task_id)
    assignee = await session.get(Employee, task.assignee_id) if task.assignee_id else None
    client = await summary(session, task.client_id) if task.client_id else None
    return TaskCard(
        task.id, task.title, task.status, task.due_at, assignee.name if assignee else None, client
    )
