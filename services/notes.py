"""Notes on a client or a deal: internal text, never sent to a client, shown in the client's
timeline to every colleague who may see the client."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import Deal, Note
from services import audit
from services.actors import Actor
from services.clients import visibility
from services.errors import InvalidInput, NotFound

MAX_LENGTH = 3000


async def add(
    session: AsyncSession,
    text: str,
    *,
    by: Actor,
    now: datetime,
    client_id: int | None = None,
    deal_id: int | None = None,
) -> int:
    """A note on a client or (with `deal_id`) on a deal, which also puts it in the deal's
    client's timeline; whoever may see the client may add one. Returns the note's id."""
    body = text.strip()
    if not body:
        raise InvalidInput("an empty note", key="note.empty")
    if len(body) > MAX_LENGTH:
        raise InvalidInput("the note is too long", key="note.too_long", limit=MAX_LENGTH)
    if deal_id is not None:
        deal = await session.get(Deal, deal_id)
        if deal is None or client_id not in (None, deal.client_id):
            raise NotFound("no such deal", key="note.no_deal", deal_id=deal_id)
        client_id = deal.client_id
    if client_id is None:
        raise InvalidInput("a note is on a client or a deal")
    await visibility.require(session, client_id, by)
    note = Note(
        author_id=by.id,
        client_id=client_id,
        deal_id=deal_id,
        text=body,
        created_at=now,
        updated_at=now,
    )
    session.add(note)
    await session.flush()
    await audit.log(
        session,
        action="note.add",
        entity_type="deal" if deal_id is not None else "client",
        entity_id=deal_id if deal_id is not None else client_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        note_id=note.id,
        client_id=client_id,
    )
    return note.id
