"""A client with a little of everything in their timeline, for timeline and card tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Call,
    CallStatus,
    Channel,
    ChannelIdentity,
    Client,
    Conversation,
    Deal,
    DealStageChange,
    DealStatus,
    Direction,
    Employee,
    Lead,
    LeadStatus,
    Message,
    Note,
    PipelineStage,
    Task,
)
from services.clients.editing import search_text_of


async def stage_id(session: AsyncSession, name: str) -> int:
    return (
        await session.execute(sa.select(PipelineStage.id).where(PipelineStage.name == name))
    ).scalar_one()


async def client(
    session: AsyncSession,
    now: datetime,
    *,
    name: str = "Иван Петров",
    owner: Employee | None = None,
    phone: str | None = "+79120001122",
    office_id: int | None = None,
) -> int:
    new = Client(
        name=name,
        search_text=search_text_of(name, None, []),
        owner_id=owner.id if owner else None,
        office_id=office_id if office_id is not None else (owner.office_id if owner else None),
        created_at=now,
        updated_at=now,
    )
    session.add(new)
    await session.flush()
    if phone:
        session.add(
            ChannelIdentity(
                client_id=new.id,
                channel=Channel.PHONE,
                address=phone,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
    return new.id


@dataclass(frozen=True)
class History:
    client_id: int
    lead_id: int
    deal_id: int
    start: datetime


async def eight_events(
    session: AsyncSession, client_id: int, *, anna: Employee, boris: Employee, start: datetime
) -> History:
    """Hour by hour: a lead, a deal opened, the deal moved, a task, a call, a note, a message
    from the client, the deal won (by Boris). Newest first that is the reverse order."""

    def at(hours: int) -> datetime:
        return start + timedelta(hours=hours)

    lead = Lead(
        client_id=client_id,
        source="form:site",
        status=LeadStatus.TARGET,
        assignee_id=anna.id,
        created_at=at(0),
        updated_at=at(0),
    )
    session.add(lead)
    await session.flush()
    first, talks = (
        await stage_id(session, "Первичный контакт"),
        await stage_id(session, "Переговоры"),
    )
    won = await stage_id(session, "Успешно реализовано")
    deal = Deal(
        client_id=client_id,
        lead_id=lead.id,
        pipeline_id=(await session.get(PipelineStage, first)).pipeline_id,  # type: ignore[union-attr]
        stage_id=won,
        title="Кухня",
        amount=150000,
        owner_id=anna.id,
        status=DealStatus.WON,
        created_at=at(1),
        updated_at=at(1),
    )
    session.add(deal)
    await session.flush()
    session.add_all(
        [
            DealStageChange(deal_id=deal.id, from_stage_id=None, to_stage_id=first, at=at(1)),
            DealStageChange(
                deal_id=deal.id, from_stage_id=first, to_stage_id=talks, by_id=anna.id, at=at(2)
            ),
            Task(
                client_id=client_id,
                title="Перезвонить",
                assignee_id=anna.id,
                created_at=at(3),
                updated_at=at(3),
            ),
            Call(
                provider="generic",
                external_id=f"c{client_id}",
                direction=Direction.IN,
                client_id=client_id,
                status=CallStatus.ANSWERED,
                started_at=at(4),
                created_at=at(4),
                updated_at=at(4),
            ),
            Note(
                client_id=client_id,
                author_id=anna.id,
                text="Хочет скидку",
                created_at=at(5),
                updated_at=at(5),
            ),
        ]
    )
    conversation = Conversation(
        client_id=client_id,
        channel=Channel.WHATSAPP,
        external_chat_id=f"wa{client_id}",
        created_at=at(6),
        updated_at=at(6),
    )
    session.add(conversation)
    await session.flush()
    session.add_all(
        [
            Message(
                conversation_id=conversation.id,
                channel=Channel.WHATSAPP,
                direction=Direction.IN,
                text="Здравствуйте",
                created_at=at(6),
                updated_at=at(6),
            ),
            DealStageChange(
                deal_id=deal.id, from_stage_id=talks, to_stage_id=won, by_id=boris.id, at=at(7)
            ),
        ]
    )
    await session.flush()
    return History(client_id, lead.id, deal.id, start)
