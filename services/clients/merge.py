"""Merging duplicate clients, and undoing a merge within 24 hours.

A merge moves every row that belongs to the merged client (`MOVES`: leads, deals, calls,
notes, tasks, conversations with their messages, tickets, contact persons, channel identities,
tags) to the survivor and records exactly which rows moved (`ClientMerge.moved`) and both
clients' fields before (`ClientMerge.before`). The merged client stays, marked
`merged_into_id`, for history; visibility hides it from search and cards.

Fields: the survivor's values win (the manager chose it); only its empty name, company, owner
and office are filled from the merged client.

Undo puts back exactly what the merge moved: the recorded rows still on the survivor return to
the merged client (a row deleted meanwhile stays deleted; a row that arrived at the survivor
after the merge stays with it), tags the survivor did not have return, the fields the merge
filled are emptied again unless someone changed them since, and `merged_into_id` is cleared.
A survivor merged on since must have that later merge undone first. Neither merge nor undo
counts as an edit of the rows it moves (`updated_at` stays), so undo leaves both clients and
all their rows exactly as they were; `client_merges` and the audit log tell what happened.

Who: managers, for clients they see (`services.clients.visibility`: their office's), and
admins; the two clients are locked in id order, so two merges of one pair run one after the
other and the second finds its client merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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
from services import access, audit
from services.access import HasRole
from services.clients import visibility
from services.clients.matching import search_text_of
from services.context import Company
from services.errors import AccessDenied, Conflict, NotFound
from services.team import topics as team_topics

UNDO_WINDOW = timedelta(hours=24)

# Every table whose rows belong to a client, by its `client_id`. A new table with a foreign key
# to clients must be added here (or to NOT_MOVED with a reason): a test compares this with the
# models' metadata.
MOVES: dict[str, Any] = {
    "leads": Lead,
    "deals": Deal,
    "calls": Call,
    "notes": Note,
    "tasks": Task,
    "conversations": Conversation,  # messages follow their conversation
    "tickets": Ticket,
    "contact_persons": ContactPerson,
    "channel_identities": ChannelIdentity,
}
TAGS = "client_tags"  # moved apart: (client_id, tag) is the key, so shared tags stay
NOT_MOVED = {
    ("clients", "merged_into_id"): "the merge itself",
    ("client_merges", "survivor_id"): "the merge record",
    ("client_merges", "merged_id"): "the merge record",
    # A team inbox topic stays with the client it was opened for (it shows that client's
    # history so far); the survivor's own topic shows what comes next.
    ("team_topics", "client_id"): "a forum topic in Telegram, not a row to move",
}
FIELDS = ("kind", "name", "company", "search_text", "owner_id", "office_id", "merged_into_id")
FILLABLE = ("name", "company", "owner_id", "office_id")


@dataclass(frozen=True)
class Merged:
    merge_id: int
    survivor_id: int
    merged_id: int
    moved: dict[str, int]  # rows moved per table
    filled: tuple[str, ...]  # survivor fields taken from the merged client


@dataclass(frozen=True)
class Undone:
    merge_id: int
    survivor_id: int
    merged_id: int
    returned: dict[str, int]  # rows moved back per table
    gone: dict[str, int]  # rows moved by the merge that were deleted or moved on since


async def require_mergeable(session: AsyncSession, client_id: int, *, by: HasRole) -> Client:
    """The client `by` may merge another one into (or merge away): a live client they see."""
    access.require_merge_clients(by)
    client = await session.get(Client, client_id, populate_existing=True)
    if client is None:
        raise NotFound("no such client", key="merge.error.not_found", client_id=client_id)
    if client.merged_into_id is not None:
        raise Conflict(
            "client already merged", key="merge.error.already_merged", client_id=client_id
        )
    if not await visibility.can_see(session, client_id, by):
        raise AccessDenied("not your client", key="merge.error.no_access", client_id=client_id)
    return client


async def merge(
    session: AsyncSession, survivor_id: int, merged_id: int, *, by: HasRole, company: Company
) -> Merged:
    """Merge client `merged_id` into `survivor_id` (see the module's docstring)."""
    if survivor_id == merged_id:
        raise Conflict("a client cannot be merged into itself", key="merge.error.same_client")
    await _lock(session, survivor_id, merged_id)
    survivor = await require_mergeable(session, survivor_id, by=by)
    merged = await require_mergeable(session, merged_id, by=by)
    now = company.clock.now()
    before = await _before(session, survivor, merged)
    moved = await _move_all(session, merged_id, survivor_id)
    filled = _filled(before["survivor"], before["merged"])
    await _update(session, merged_id, merged_into_id=survivor_id)
    await _update(session, survivor_id, **filled)
    await _set_search_text(session, survivor_id, await _search_text(session, survivor_id))
    record = ClientMerge(survivor_id=survivor_id, merged_id=merged_id, by_id=by.id or None, at=now)
    record.moved, record.before = moved, before
    session.add(record)
    await session.flush()
    counts = _nonzero({name: len(ids) for name, ids in moved.items()})
    changes = audit.diff(before["survivor"], await _current(session, survivor_id))
    log: dict[str, Any] = {"merge_id": record.id, "at": now, "by": by}
    await _audit(
        session,
        "client.merge",
        survivor_id,
        **log,
        merged_id=merged_id,
        moved=counts,
        changes=changes,
    )
    await _audit(session, "client.merged_into", merged_id, **log, survivor_id=survivor_id)
    await _forget(session, survivor_id, merged_id)
    # the survivor's team topic (opened now if it has none) shows the joined client
    await team_topics.clients_changed(session, [survivor_id], now=now)
    return Merged(record.id, survivor_id, merged_id, counts, tuple(filled))


async def undo(session: AsyncSession, merge_id: int, *, by: HasRole, company: Company) -> Undone:
    """Undo merge `merge_id` within 24 hours of it, once (see the module's docstring)."""
    access.require_merge_clients(by)
    now = company.clock.now()
    record = await _undoable(session, merge_id, now=now)
    survivor_id, merged_id = record.survivor_id, record.merged_id
    await _lock(session, survivor_id, merged_id)
    survivor = await session.get(Client, survivor_id, populate_existing=True)
    if survivor is not None and survivor.merged_into_id is not None:
        raise Conflict("the survivor was merged on since", key="merge.error.undo_later_first")
    await require_mergeable(session, survivor_id, by=by)
    was = {cid: await _current(session, cid) for cid in (survivor_id, merged_id)}
    returned, gone = await _return_rows(session, record)
    await _restore_fields(session, record.before)
    await session.execute(
        sa.update(ClientMerge).where(ClientMerge.id == merge_id).values(undone_at=now)
    )
    for client_id, other_id in ((survivor_id, merged_id), (merged_id, survivor_id)):
        changes = audit.diff(was[client_id], await _current(session, client_id))
        await _audit(
            session,
            "client.merge_undone",
            client_id,
            merge_id=merge_id,
            at=now,
            by=by,
            other_id=other_id,
            returned=returned,
            gone=gone,
            changes=changes,
        )
    await _forget(session, survivor_id, merged_id)
    return Undone(merge_id, survivor_id, merged_id, returned, gone)


async def _undoable(session: AsyncSession, merge_id: int, *, now: datetime) -> ClientMerge:
    """The merge, locked, if it may still be undone (once, within 24 hours)."""
    record = await session.get(ClientMerge, merge_id, with_for_update=True, populate_existing=True)
    if record is None:
        raise NotFound("no such merge", key="merge.error.not_found", merge_id=merge_id)
    if record.undone_at is not None:
        raise Conflict("merge already undone", key="merge.error.already_undone", merge_id=merge_id)
    if now - record.at > UNDO_WINDOW:
        raise Conflict("too late to undo", key="merge.error.undo_expired", merge_id=merge_id)
    return record


# --- moving rows


async def _move_all(session: AsyncSession, from_id: int, to_id: int) -> dict[str, list[Any]]:
    """Every row of `from_id` to `to_id`: the ids (tags) that moved, per table."""
    moved: dict[str, list[Any]] = {}
    for name, model in MOVES.items():
        moved[name] = await _move(session, model, from_id, to_id)
    moved[TAGS] = await _move_tags(session, from_id, to_id)
    return moved


async def _return_rows(
    session: AsyncSession, record: ClientMerge
) -> tuple[dict[str, int], dict[str, int]]:
    """The rows the merge moved that are still on the survivor go back: how many per table
    went back, and how many did not (deleted or moved on since)."""
    back_from, to = record.survivor_id, record.merged_id
    returned: dict[str, int] = {}
    gone: dict[str, int] = {}
    for name, model in [*MOVES.items(), (TAGS, ClientTag)]:
        ids = record.moved.get(name) or []
        if model is ClientTag:
            back = await _move_tags(session, back_from, to, only=ids) if ids else []
        else:
            back = await _move(session, model, back_from, to, ids=ids) if ids else []
        returned[name], gone[name] = len(back), len(ids) - len(back)
    return _nonzero(returned), _nonzero(gone)


async def _move(
    session: AsyncSession, model: Any, from_id: int, to_id: int, *, ids: list[int] | None = None
) -> list[int]:
    """Move `from_id`'s rows (only `ids` of them, when given) to `to_id`; the ids that moved.
    A row's `updated_at` is kept: a merge is not an edit of the lead or call."""
    stmt = sa.update(model).where(model.client_id == from_id)
    if ids is not None:
        stmt = stmt.where(model.id.in_(ids))
    stmt = stmt.values(client_id=to_id, updated_at=model.updated_at).returning(model.id)
    return sorted((await session.execute(stmt)).scalars())


async def _move_tags(
    session: AsyncSession, from_id: int, to_id: int, *, only: list[str] | None = None
) -> list[str]:
    """Move `from_id`'s tags that `to_id` lacks; a tag both have stays on both."""
    has = sa.select(ClientTag.tag).where(ClientTag.client_id == to_id)
    stmt = sa.update(ClientTag).where(ClientTag.client_id == from_id, ClientTag.tag.not_in(has))
    if only is not None:
        stmt = stmt.where(ClientTag.tag.in_(only))
    result = await session.execute(stmt.values(client_id=to_id).returning(ClientTag.tag))
    return sorted(result.scalars())


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in counts.items() if n}


# --- fields


def _fields(client: Client) -> dict[str, Any]:
    return {"id": client.id, **{name: _plain(getattr(client, name)) for name in FIELDS}}


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _filled(survivor: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """The survivor's empty fields that the merged client has."""
    return {
        name: merged[name]
        for name in FILLABLE
        if _empty(survivor[name]) and not _empty(merged[name])
    }


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


async def _restore_fields(session: AsyncSession, before: dict[str, Any]) -> None:
    """The merged client as it was; the survivor's filled fields emptied again unless they
    were changed after the merge (a later edit wins)."""
    survivor, merged = before["survivor"], before["merged"]
    await _update(session, _id_of(before, "merged"), merged_into_id=merged["merged_into_id"])
    for name, value in _filled(survivor, merged).items():
        unchanged = getattr(Client, name) == value
        await _update(session, _id_of(before, "survivor"), unchanged, **{name: survivor[name]})
    for side in ("survivor", "merged"):
        client_id = _id_of(before, side)
        text = await _search_text(session, client_id)
        if text == before["search"][side]:
            text = before[side]["search_text"]  # made of the same again: exactly as it was
        await _set_search_text(session, client_id, text)


async def _before(session: AsyncSession, survivor: Client, merged: Client) -> dict[str, Any]:
    """Both clients' fields, and what their search texts were made of (undo puts the old
    text back when it is made of the same again)."""
    return {
        "survivor": _fields(survivor),
        "merged": _fields(merged),
        "search": {
            "survivor": await _search_text(session, survivor.id),
            "merged": await _search_text(session, merged.id),
        },
    }


def _id_of(before: dict[str, Any], side: str) -> int:
    return int(before[side]["id"])


async def _current(session: AsyncSession, client_id: int) -> dict[str, Any]:
    row = (await session.execute(sa.select(*_columns()).where(Client.id == client_id))).one()
    return {name: _plain(value) for name, value in row._mapping.items()}


def _columns() -> list[Any]:
    return [Client.id, *(getattr(Client, name) for name in FIELDS)]


async def _search_text(session: AsyncSession, client_id: int) -> str | None:
    """Casefolded name, company and contact persons' names (ё read as е): what /find matches."""
    name, company = (
        await session.execute(sa.select(Client.name, Client.company).where(Client.id == client_id))
    ).one()
    contacts = await session.scalars(
        sa.select(ContactPerson.name)
        .where(ContactPerson.client_id == client_id)
        .order_by(ContactPerson.id)
    )
    return search_text_of(name, company, contacts)


async def _set_search_text(session: AsyncSession, client_id: int, text: str | None) -> None:
    await _update(session, client_id, search_text=text)


async def _update(session: AsyncSession, client_id: int, *where: Any, **values: Any) -> None:
    """A merge is recorded in `client_merges` and the audit log, not as an edit of either
    client: `updated_at` is kept, so that undo leaves both exactly as they were."""
    if not values:
        return
    stmt = sa.update(Client).where(Client.id == client_id, *where)
    await session.execute(stmt.values(updated_at=Client.updated_at, **values))


# --- bookkeeping


async def _lock(session: AsyncSession, *client_ids: int) -> None:
    """Both clients locked, in id order (two merges of one pair never deadlock)."""
    await session.execute(
        sa.select(Client.id).where(Client.id.in_(client_ids)).order_by(Client.id).with_for_update()
    )


async def _forget(session: AsyncSession, *client_ids: int) -> None:
    """Core updates bypass the identity map: loaded clients re-read their rows."""
    for client_id in client_ids:
        client = await session.get(Client, client_id)
        if client is not None:
            await session.refresh(client)


async def _audit(
    session: AsyncSession, action: str, client_id: int, *, at: datetime, by: HasRole, **data: Any
) -> None:
    await audit.log(
        session,
        action=action,
        entity_type="client",
        entity_id=client_id,
        at=at,
        actor_id=by.id or None,  # 0: the product itself (a client shared their phone)
        actor_kind="employee" if by.id else "system",
        **data,
    )
