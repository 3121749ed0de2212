"""Undoing an import: the clients it created go unless worked on since; the clients it
updated get their name and company back unless edited since; the contact persons it added to
clients that were there before go."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Call,
    ChannelIdentity,
    Client,
    ClientMerge,
    ClientTag,
    ContactPerson,
    Conversation,
    Deal,
    Lead,
    Note,
    Task,
    Ticket,
)
from services import audit
from services.actors import Actor
from services.clients import matching
from services.errors import Conflict
from services.imports.common import (
    _I,
    _R,
    _mine,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Undone:
    removed: int  # created clients removed
    kept: int  # created clients kept: something was done with them since
    restored: int  # updated clients given their name and company back
    contacts: int = 0  # contact persons it added to clients that were there before, removed


async def undo(session: AsyncSession, import_id: int, *, by: Actor, now: datetime) -> Undone:
    found = await _mine(session, import_id, by, lock=True)
    if found.status != "done":
        raise Conflict("only a finished import is undone", key="import.not_done")
    created = sa.select(_R.c.client_id).where(
        _R.c.import_id == import_id, _R.c.outcome == "created"
    )
    merges = ClientMerge.__table__
    used = sa.union(  # anything done with a created client since keeps it
        *(
            sa.select(column).where(column.in_(created))
            for column in (
                Lead.client_id,
                Deal.client_id,
                Task.client_id,
                Conversation.client_id,
                Call.client_id,
                Ticket.client_id,
                Note.client_id,
                Client.merged_into_id,
                merges.c.survivor_id,
                merges.c.merged_id,
            )
        )
    )
    gone = sa.select(Client.id).where(
        Client.id.in_(created),
        Client.id.not_in(used),
        Client.updated_at == Client.created_at,  # not edited since either
    )
    removable = list((await session.execute(gone)).scalars())
    for start_at in range(0, len(removable), 1000):
        chunk = removable[start_at : start_at + 1000]
        for model in (ChannelIdentity, ClientTag, ContactPerson):
            await session.execute(sa.delete(model).where(model.client_id.in_(chunk)))
        await session.execute(sa.delete(Client).where(Client.id.in_(chunk)))
    total_created = await session.scalar(sa.select(sa.func.count()).select_from(created.subquery()))
    updated = (
        await session.execute(
            sa.select(_R.c.client_id, _R.c.before)
            .where(_R.c.import_id == import_id, _R.c.outcome == "updated")
            .order_by(_R.c.line)
        )
    ).all()
    first: dict[int, dict[str, Any]] = {}  # a client two rows updated: as it was before both
    last_at: dict[int, str] = {}
    for client_id, before in updated:
        first.setdefault(client_id, before)
        last_at[client_id] = before["at"]
    restored = 0
    for client_id, before in first.items():
        done = await session.execute(
            sa.update(Client)
            .where(  # unless edited since the import
                Client.id == client_id,
                Client.updated_at == datetime.fromisoformat(last_at[client_id]),
            )
            .values(
                name=before["name"],
                company=before["company"],
                search_text=matching.search_text_of(before["name"], before["company"]),
                updated_at=now,
            )
        )
        restored += done.rowcount or 0
    contacts = await _remove_contacts(session, import_id, created)
    await session.execute(
        sa.update(_I).where(_I.c.id == import_id).values(status="undone", undone_at=now)
    )
    result = Undone(len(removable), int(total_created or 0) - len(removable), restored, contacts)
    await audit.log(
        session,
        action="import.undone",
        entity_type="import",
        entity_id=import_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        removed=result.removed,
        kept=result.kept,
        restored=result.restored,
        contacts=result.contacts,
    )
    return result


async def _remove_contacts(
    session: AsyncSession, import_id: int, created: sa.Select[tuple[int | None]]
) -> int:
    """The contact persons the import added to clients it did not create (a created client
    that stays keeps them: someone worked with it)."""
    added = await session.scalars(
        sa.select(_R.c.before).where(
            _R.c.import_id == import_id,
            _R.c.outcome.in_(("updated", "joined")),
            _R.c.client_id.not_in(created),
        )
    )
    ids = [i for before in added for i in (before or {}).get("contacts", [])]
    removed = 0
    for start_at in range(0, len(ids), 1000):
        chunk = ids[start_at : start_at + 1000]
        done = await session.execute(sa.delete(ContactPerson).where(ContactPerson.id.in_(chunk)))
        removed += done.rowcount or 0
    return removed
