"""What staff see about a client on a call or task card: who they are, whose, and history
(the task card itself: services.tasks.cards)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from models import Call, CallStatus, Client, Direction, Employee, PhoneLine
from services.clients import history
from services.clients.history import CardHistory
from services.clients.timeline import Event
from services.errors import NotFound


@dataclass(frozen=True)
class ClientSummary:
    client_id: int
    name: str | None
    owner: str | None
    history: CardHistory


async def summary(session: AsyncSession, client_id: int, *, leaving_out: Event) -> ClientSummary:
    """Who the client is and whose, with their history minus the card's own event."""
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound("no such client", client_id=client_id)
    owner = await session.get(Employee, client.owner_id) if client.owner_id else None
    past = await history.of_client(session, client_id, leaving_out=leaving_out)
    return ClientSummary(client.id, client.name, owner.name if owner else None, past)


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
    client = None
    if call.client_id:
        event = await history.of_call(session, call.id)
        client = await summary(session, call.client_id, leaving_out=event)
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
