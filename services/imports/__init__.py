"""Importing clients from CSV and XLSX, in four steps a person can see:

1. `upload`: the file is read (services.imports.reading) and its rows kept as typed; the
   columns are mapped by their headers where they are recognised.
2. `preview` (the dry run): with the mapping and the choice for matches, every row is judged
   new, matched (an existing client has its normalised phone or e-mail) or invalid (with the
   reason); nothing is written but the verdicts.
3. `start` and `run`: the rows are applied a thousand at a time, each batch in its own
   transaction, so progress shows while it runs and a stop loses nothing (`run` picks up
   after the last batch).
4. `undo`: clients the import created go (unless something was done with them since: a lead,
   a deal, a task, a conversation, a call), clients it updated get their name and company back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Call,
    Channel,
    ChannelIdentity,
    Client,
    ClientImport,
    ClientImportRow,
    ClientMerge,
    ClientTag,
    ContactPerson,
    Conversation,
    Deal,
    Employee,
    Lead,
    Note,
    Task,
    Ticket,
)
from models.db import Database, insert_ignoring_conflicts
from services import access, audit
from services.actors import Actor
from services.clients import matching
from services.clients.identities import normalize_email, normalize_phone
from services.context import Company
from services.errors import AccessDenied, Conflict, DomainError, InvalidInput, NotFound
from services.imports import reading
from services.imports.reading import FIELDS, Table

log = logging.getLogger(__name__)

BATCH = 1000
MATCHES = ("skip", "update", "create")
NAME_MAX, COMPANY_MAX, TAG_MAX = 300, 300, 64
_I, _R = ClientImport.__table__, ClientImportRow.__table__


async def upload(
    session: AsyncSession, data: bytes, filename: str, *, by: Actor, now: datetime
) -> int:
    """Keep the file's rows; the import's id."""
    _require(by)
    table: Table = await asyncio.to_thread(reading.read, data, filename)  # seconds for 4 MB
    stmt = (
        sa.insert(_I)
        .values(
            at=now,
            actor_id=by.id,
            filename=filename[:255] or "—",
            headers={"names": table.headers},
            mapping=reading.guess(table.headers),
            matches="skip",
            owner_id=by.id,
            office_id=access.office_limit(by),
            status="uploaded",
            total=len(table.rows),
            processed=0,
            counts={},
        )
        .returning(_I.c.id)
    )
    import_id = (await session.execute(stmt)).scalar_one()
    rows = [
        {"import_id": import_id, "line": line, "cells": {"v": cells}}
        for line, cells in enumerate(table.rows, start=2)
    ]
    for start in range(0, len(rows), 5000):
        await session.execute(sa.insert(_R), rows[start : start + 5000])
    return import_id


@dataclass(frozen=True)
class Parsed:
    """One row read with the mapping: what it says, or why it cannot be used."""

    name: str | None  # as typed (None: no name column, or a blank cell)
    company: str | None
    identities: list[matching.Identity]
    tags: list[str]
    reason: str | None = None  # a locale key's last part, and its value after ":"

    @property
    def title(self) -> str | None:
        """What a new client is called: the name, else the company."""
        return self.name or self.company


def parse_row(cells: list[str], mapping: dict[str, str], region: str) -> Parsed:
    values: dict[str, list[str]] = {field: [] for field in FIELDS}
    for index, field in mapping.items():
        if field in values and index.isascii() and index.isdigit() and int(index) < len(cells):
            if cells[int(index)].strip():
                values[field].append(cells[int(index)].strip())
    name = " ".join(" ".join(values["name"]).split())[:NAME_MAX] or None
    company = " ".join(" ".join(values["company"]).split())[:COMPANY_MAX] or None
    identities: list[matching.Identity] = []
    for raw in _split(values["phone"]):
        try:
            identities.append((Channel.PHONE, normalize_phone(raw[:100], region)))
        except DomainError:
            return Parsed(name, company, [], [], f"bad_phone:{raw[:60]}")
    for raw in _split(values["email"]):
        try:
            identities.append((Channel.EMAIL, normalize_email(raw[:320])))
        except DomainError:
            return Parsed(name, company, [], [], f"bad_email:{raw[:60]}")
    tags = sorted({t[:TAG_MAX] for t in _split(values["tag"], ",;")})
    if not (name or company or identities):
        return Parsed(None, None, [], [], "empty")
    return Parsed(name, company, list(dict.fromkeys(identities)), tags)


def _split(values: list[str], separators: str = ",;") -> list[str]:
    parts = []
    for value in values:
        for sep in separators[1:]:
            value = value.replace(sep, separators[0])
        parts += [p.strip() for p in value.split(separators[0]) if p.strip()]
    return parts


async def preview(
    session: AsyncSession,
    import_id: int,
    *,
    mapping: dict[str, str],
    matches: str,
    owner_id: int | None,
    by: Actor,
    company: Company,
) -> dict[str, int]:
    """The dry run: each row judged new, matched or invalid (why); counts by verdict."""
    found = await _mine(session, import_id, by, lock=True)
    if found.status not in ("uploaded", "previewed"):
        raise Conflict("the import has started", key="import.started")
    if matches not in MATCHES:
        raise InvalidInput("bad choice for matches", key="web.bad_input", fields="matches")
    width = len(found.headers["names"])
    mapping = {
        k: v
        for k, v in mapping.items()
        if v in FIELDS and k.isascii() and k.isdigit() and int(k) < width
    }
    if not {"name", "phone", "email", "company"} & set(mapping.values()):
        raise InvalidInput("map a name, phone, e-mail or company", key="import.map_something")
    owner = await _owner(session, owner_id, by)
    counts: Counter[str] = Counter()
    seen: dict[matching.Identity, int] = {}
    after = 0
    while True:
        rows = (
            await session.execute(
                sa.select(_R.c.line, _R.c.cells)
                .where(_R.c.import_id == import_id, _R.c.line > after)
                .order_by(_R.c.line)
                .limit(BATCH)
            )
        ).all()
        if not rows:
            break
        after = rows[-1].line
        parsed = {line: parse_row(cells["v"], mapping, company.region) for line, cells in rows}
        known = await matching.find_many(
            session, list({i for p in parsed.values() for i in p.identities})
        )
        verdicts = []
        for line, row in parsed.items():
            outcome, reason, client_id = "new", row.reason, None
            repeated = next((seen[i] for i in row.identities if i in seen), None)
            if reason is not None:
                outcome = "invalid"
            elif repeated is not None:
                outcome, reason = "invalid", f"repeat:{repeated}"
            else:
                match = matching.best_match(known, row.identities)
                if match is not None and not _within(match, found.office_id):
                    outcome, reason = "invalid", "another_office"
                elif match is not None:
                    outcome, client_id = "matched", match.id
                for identity in row.identities:
                    seen[identity] = line
            counts[outcome] += 1
            verdicts.append({"l": line, "o": outcome, "r": reason, "c": client_id})
        await session.execute(
            sa.update(_R)
            .where(_R.c.import_id == import_id, _R.c.line == sa.bindparam("l"))
            .values(
                outcome=sa.bindparam("o"), reason=sa.bindparam("r"), client_id=sa.bindparam("c")
            ),
            verdicts,
        )
    await session.execute(
        sa.update(_I)
        .where(_I.c.id == import_id)
        .values(
            mapping=mapping,
            matches=matches,
            owner_id=owner.id,
            status="previewed",
            counts=dict(counts),
        )
    )
    return dict(counts)


async def start(session: AsyncSession, import_id: int, *, by: Actor, now: datetime) -> None:
    """Applying begins (`run` does the work); only a dry run's import starts."""
    found = await _mine(session, import_id, by, lock=True)
    if found.status == "running":
        return  # a second press, or picking up after a stop
    if found.status == "failed":  # go on after the last batch applied
        await session.execute(
            sa.update(_I).where(_I.c.id == import_id).values(status="running", error=None)
        )
        return
    if found.status != "previewed":
        raise Conflict("preview first", key="import.preview_first")
    await session.execute(
        sa.update(_I).where(_I.c.id == import_id).values(status="running", processed=0, counts={})
    )
    await audit.log(
        session,
        action="import.started",
        entity_type="import",
        entity_id=import_id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        rows=found.total,
        matches=found.matches,
    )


async def run(db: Database, import_id: int, company: Company) -> None:
    """Apply the rows not applied yet, a batch a unit of work, until none is left. A batch
    that fails (the database gone for good, a bug) stops the run as "failed" with the
    reason; the batches before it stay applied, and starting again goes on after them."""
    try:
        while await _run_batch(db, import_id, company):
            pass
    except Exception as exc:
        log.exception("import %s stopped", import_id)
        async with db.unit_of_work() as session:
            await session.execute(
                sa.update(_I)
                .where(_I.c.id == import_id, _I.c.status == "running")
                .values(status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            )


async def _run_batch(db: Database, import_id: int, company: Company) -> bool:
    async with db.unit_of_work() as session:
        found = await session.get(ClientImport, import_id, with_for_update=True)
        if found is None or found.status != "running":
            return False
        rows = (
            await session.execute(
                sa.select(_R.c.line, _R.c.cells, _R.c.outcome)
                .where(_R.c.import_id == import_id, _R.c.line > found.processed + 1)
                .order_by(_R.c.line)
                .limit(BATCH)
            )
        ).all()
        now = company.clock.now()
        counts = Counter(found.counts)
        if not rows:
            found.status = "done"
            await audit.log(
                session,
                action="import.done",
                entity_type="import",
                entity_id=import_id,
                at=now,
                actor_id=found.actor_id,
                actor_kind="employee",
                **dict(counts),
            )
            return False
        done = await _apply(session, found, rows, company, now)
        counts.update(done)
        found.counts = dict(counts)
        found.processed = rows[-1].line - 1
        return True


async def _apply(
    session: AsyncSession, found: ClientImport, rows: list[Any], company: Company, now: datetime
) -> Counter[str]:
    """One batch: rows judged invalid stay so; the rest are matched again (the data may have
    changed since the dry run) and created, updated or skipped."""
    parsed = {
        r.line: parse_row(r.cells["v"], found.mapping, company.region)
        for r in rows
        if r.outcome != "invalid"
    }
    known = await matching.find_many(
        session, list({i for p in parsed.values() for i in p.identities})
    )
    outcomes: dict[int, tuple[str, int | None, dict[str, Any] | None]] = {}
    to_create: list[tuple[int, Parsed, list[matching.Identity]]] = []
    for line, row in parsed.items():
        match = matching.best_match(known, row.identities)
        if match is not None and not _within(match, found.office_id):
            outcomes[line] = ("skipped", None, None)  # another office's client: not touched
        elif match is None:
            to_create.append((line, row, row.identities))
        elif found.matches == "update":
            outcomes[line] = ("updated", match.id, await _update(session, match.id, row, now))
        elif found.matches == "create":
            free = [i for i in row.identities if i not in known]
            to_create.append((line, row, free))
        else:
            outcomes[line] = ("skipped", match.id, None)
    made = await matching.create_many(
        session,
        [matching.NewClient(ids, row.title, found.owner_id) for _line, row, ids in to_create],
        now=now,
    )
    owner_office = await session.scalar(
        sa.select(Employee.office_id).where(Employee.id == found.owner_id)
    )
    filled = []
    for (line, row, _ids), client in zip(to_create, made, strict=True):
        if client.created:
            filled.append(
                {
                    "i": client.id,
                    "company": row.company,
                    "office_id": owner_office,
                    "search_text": matching.search_text_of(row.title, row.company),
                    "updated_at": now,  # as created: undo tells edits by updated_at
                }
            )
            outcomes[line] = ("created", client.id, None)
        else:  # another writer registered one of its addresses meanwhile
            outcomes[line] = ("skipped", client.id, None)
    if filled:
        c = Client.__table__
        await session.execute(sa.update(c).where(c.c.id == sa.bindparam("i")), filled)
    tags = [
        {"client_id": outcomes[line][1], "tag": tag}
        for line, row in parsed.items()
        for tag in row.tags
        if outcomes[line][0] in ("created", "updated")
    ]
    if tags:
        await session.execute(insert_ignoring_conflicts(session, ClientTag.__table__), tags)
    changes = [
        {"l": line, "o": outcome, "c": client_id, "b": before}
        for line, (outcome, client_id, before) in outcomes.items()
    ]
    if changes:
        await session.execute(
            sa.update(_R)
            .where(_R.c.import_id == found.id, _R.c.line == sa.bindparam("l"))
            .values(
                outcome=sa.bindparam("o"), client_id=sa.bindparam("c"), before=sa.bindparam("b")
            ),
            changes,
        )
    result = Counter(outcome for outcome, _c, _b in outcomes.values())
    result["invalid"] += len(rows) - len(parsed)
    return result


def _within(match: matching.ResolvedClient, office_id: int | None) -> bool:
    """Whether an import limited to `office_id` (a manager's) may touch the client: its office,
    else its owner's, is that one (None: an admin's import, every client)."""
    if office_id is None:
        return True
    office = match.office_id or (match.owner.office_id if match.owner else None)
    return office == office_id


async def _update(
    session: AsyncSession, client_id: int, row: Parsed, now: datetime
) -> dict[str, Any]:
    """The file's name and company over the client's (blank cells leave them), its addresses
    added; what was there before, for undo."""
    client = await session.get(Client, client_id)
    assert client is not None
    before = {"name": client.name, "company": client.company, "at": now.isoformat()}
    client.name = row.name or client.name
    client.company = row.company or client.company
    client.search_text = matching.search_text_of(client.name, client.company)
    client.updated_at = now
    if row.identities:
        await session.execute(
            insert_ignoring_conflicts(session, ChannelIdentity.__table__),
            [
                {"client_id": client_id, "channel": ch, "address": a}
                | {"created_at": now, "updated_at": now}
                for ch, a in row.identities
            ],
        )
    return before


@dataclass(frozen=True)
class Undone:
    removed: int  # created clients removed
    kept: int  # created clients kept: something was done with them since
    restored: int  # updated clients given their name and company back


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
    await session.execute(
        sa.update(_I).where(_I.c.id == import_id).values(status="undone", undone_at=now)
    )
    result = Undone(len(removable), int(total_created or 0) - len(removable), restored)
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
    )
    return result


@dataclass(frozen=True)
class ImportView:
    id: int
    at: datetime
    filename: str
    headers: list[str]
    mapping: dict[str, str]
    matches: str
    owner_id: int | None
    status: str
    error: str | None
    total: int
    processed: int
    counts: dict[str, int]
    samples: list[tuple[int, str, str | None, list[str]]]  # line, outcome, reason, cells
    first: list[list[str]]  # the first rows, as examples of each column


async def view(session: AsyncSession, import_id: int, *, by: Actor, sample: int = 20) -> ImportView:
    """The import as its page shows it, with a few rows of each verdict."""
    found = await _mine(session, import_id, by)
    samples: list[tuple[int, str, str | None, list[str]]] = []
    for outcome in ("invalid", "matched", "new", "created", "updated", "skipped"):
        rows = await session.execute(
            sa.select(_R.c.line, _R.c.outcome, _R.c.reason, _R.c.cells)
            .where(_R.c.import_id == import_id, _R.c.outcome == outcome)
            .order_by(_R.c.line)
            .limit(sample)
        )
        samples += [(r.line, r.outcome, r.reason, r.cells["v"]) for r in rows]
    first = await session.scalars(
        sa.select(_R.c.cells).where(_R.c.import_id == import_id).order_by(_R.c.line).limit(3)
    )
    return ImportView(
        found.id,
        found.at,
        found.filename,
        list(found.headers["names"]),
        dict(found.mapping),
        found.matches,
        found.owner_id,
        found.status,
        found.error,
        found.total,
        found.processed,
        dict(found.counts),
        samples,
        [cells["v"] for cells in first],
    )


async def recent(session: AsyncSession, *, by: Actor, limit: int = 20) -> list[ClientImport]:
    _require(by)
    stmt = sa.select(ClientImport).order_by(ClientImport.id.desc()).limit(limit)
    if not access.sees_every_bulk(by):
        stmt = stmt.where(ClientImport.actor_id == by.id)
    return list((await session.scalars(stmt)).all())


async def _mine(
    session: AsyncSession, import_id: int, by: Actor, *, lock: bool = False
) -> ClientImport:
    _require(by)
    found = await session.get(ClientImport, import_id, with_for_update=lock)
    if found is None or not access.can_see_bulk(by, actor_id=found.actor_id):
        raise NotFound(f"no import {import_id}", key="web.not_found")
    return found


async def _owner(session: AsyncSession, owner_id: int | None, by: Actor) -> Employee:
    """Whose the new clients are: an active employee; a manager's: of their office."""
    owner = await session.get(Employee, owner_id or by.id)
    if owner is None or not owner.is_active:
        raise NotFound("no such employee", key="bulk.no_such_employee")
    access.require_give_in_bulk(by, to_office_id=owner.office_id)
    return owner


def _require(by: Actor) -> None:
    if not access.can_change_in_bulk(by):
        raise AccessDenied("only admins and managers import", key="web.not_found")
