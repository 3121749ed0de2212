"""Clients with a row in every table that belongs to a client, and snapshots of all of it:
what merge tests move and compare."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import models
from models import (
    Call,
    Channel,
    ChannelIdentity,
    Client,
    ClientTag,
    ContactPerson,
    Conversation,
    Deal,
    Direction,
    Employee,
    Lead,
    Message,
    Note,
    PipelineStage,
    Task,
    Ticket,
)
from services.clients import merge as merging

_serial = iter(range(1, 1_000_000))


async def client_with_history(
    s, *, name: str | None, office_id: int | None, owner: Employee | None, tags=("vip",), **more
) -> int:
    """A client with a row in every table that belongs to a client."""
    n = next(_serial)
    client = Client(name=name, office_id=office_id, owner_id=owner and owner.id, **more)
    s.add(client)
    await s.flush()
    person = ContactPerson(client_id=client.id, name=f"Контакт {n}")
    s.add(person)
    await s.flush()
    stage = await s.scalar(sa.select(PipelineStage).order_by(PipelineStage.id).limit(1))
    lead = Lead(client_id=client.id, source="form:site", phone=f"+7912000{n:04d}")
    s.add(lead)
    await s.flush()
    conversation = Conversation(
        client_id=client.id, channel=Channel.WHATSAPP, external_chat_id=f"wa{n}"
    )
    s.add_all(
        [
            ChannelIdentity(
                client_id=client.id,
                contact_person_id=person.id,
                channel=Channel.PHONE,
                address=f"+7912000{n:04d}",
            ),
            Deal(
                client_id=client.id,
                lead_id=lead.id,
                pipeline_id=stage.pipeline_id,
                stage_id=stage.id,
                title=f"Сделка {n}",
            ),
            Call(
                client_id=client.id,
                provider="generic",
                external_id=f"call{n}",
                direction=Direction.IN,
            ),
            Note(client_id=client.id, text=f"Заметка {n}"),
            Task(client_id=client.id, title=f"Перезвонить {n}"),
            conversation,
            *[ClientTag(client_id=client.id, tag=tag) for tag in tags],
        ]
    )
    if owner is not None:
        s.add(Ticket(client_id=client.id, author_id=owner.id, category="q", subject="?"))
    await s.flush()
    s.add(
        Message(
            conversation_id=conversation.id,
            channel=Channel.WHATSAPP,
            direction=Direction.IN,
            text="Здравствуйте",
        )
    )
    await s.flush()
    await merging._set_search_text(s, client.id, await merging._search_text(s, client.id))
    return client.id


async def snapshot(s, client_id: int) -> dict[str, Any]:
    """Every row of the client and everything that belongs to it, column by column."""
    tables = models.Base.metadata.tables

    async def rows(table: sa.Table, where: Any) -> list[dict[str, Any]]:
        stmt = sa.select(table).where(where).order_by(*table.primary_key.columns)
        return [dict(r._mapping) for r in (await s.execute(stmt)).all()]

    found = {"client": await rows(tables["clients"], tables["clients"].c.id == client_id)}
    for name in [*merging.MOVES, merging.TAGS]:
        found[name] = await rows(tables[name], tables[name].c.client_id == client_id)
    conversations = sa.select(Conversation.id).where(Conversation.client_id == client_id)
    found["messages"] = await rows(
        tables["messages"], tables["messages"].c.conversation_id.in_(conversations)
    )
    return found
