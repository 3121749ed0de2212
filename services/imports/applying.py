"""Applying an import: `start`, then `run` a thousand rows a unit of work in the background
(created, updated or skipped as chosen), stopping as "failed" with its reason on an error."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ChannelIdentity,
    Client,
    ClientImport,
    ClientTag,
    ContactPerson,
    Employee,
)
from models.db import Database, insert_ignoring_conflicts
from models.text import fold
from services import audit
from services.actors import Actor
from services.clients import matching
from services.context import Company
from services.errors import Conflict
from services.imports.common import (
    _I,
    _R,
    BATCH,
    _mine,
)
from services.imports.rows import Parsed, _within, parse_row

log = logging.getLogger(__name__)

# line → what became of the row, its client, what it held before (for undo)
Outcomes = dict[int, tuple[str, int | None, dict[str, Any] | None]]


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
                sa.select(_R.c.line, _R.c.cells, _R.c.outcome, _R.c.reason)
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
    changed since the dry run) and created, updated or skipped; a company's later rows join
    its client; each row's contact person is added to its client."""
    parsed = {
        r.line: parse_row(r.cells["v"], found.mapping, company.region)
        for r in rows
        if r.outcome != "invalid"
    }
    # A company's later rows join the client its first row brings (the dry run's grouping).
    joining = {
        r.line: int(r.reason.split(":", 1)[1])
        for r in rows
        if r.outcome == "joined" and r.line in parsed
    }
    known = await matching.find_many(
        session, list({i for p in parsed.values() for i in p.identities})
    )
    outcomes: Outcomes = {}
    to_create: list[tuple[int, Parsed, list[matching.Identity]]] = []
    for line, row in parsed.items():
        if line in joining:
            continue
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
    await _join(session, found.id, parsed, joining, outcomes, now)
    await _contacts(session, parsed, outcomes, now)
    tags = [
        {"client_id": outcomes[line][1], "tag": tag}
        for line, row in parsed.items()
        for tag in row.tags
        if outcomes[line][0] in ("created", "updated", "joined")
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
    if invalid := len(rows) - len(parsed):
        result["invalid"] += invalid
    return result


async def _join(
    session: AsyncSession,
    import_id: int,
    parsed: dict[int, Parsed],
    joining: dict[int, int],
    outcomes: Outcomes,
    now: datetime,
) -> None:
    """A company's later rows: their phones and e-mails go to the client its first row made or
    updated (in this batch or an earlier one); skipped when that row was skipped."""
    if not joining:
        return
    earlier = set(joining.values()) - set(outcomes)
    leaders = {line: (outcome, client_id) for line, (outcome, client_id, _b) in outcomes.items()}
    if earlier:
        found = await session.execute(
            sa.select(_R.c.line, _R.c.outcome, _R.c.client_id).where(
                _R.c.import_id == import_id, _R.c.line.in_(sorted(earlier))
            )
        )
        leaders |= {line: (outcome, client_id) for line, outcome, client_id in found.all()}
    identities = []
    for line, leader in joining.items():
        outcome, client_id = leaders.get(leader, ("skipped", None))
        if outcome not in ("created", "updated") or client_id is None:
            outcomes[line] = ("skipped", client_id, None)
            continue
        outcomes[line] = ("joined", client_id, None)
        identities += [
            {"client_id": client_id, "channel": ch, "address": a, "created_at": now}
            | {"updated_at": now}
            for ch, a in parsed[line].identities
        ]
    if identities:
        await session.execute(
            insert_ignoring_conflicts(session, ChannelIdentity.__table__), identities
        )


async def _contacts(
    session: AsyncSession, parsed: dict[int, Parsed], outcomes: Outcomes, now: datetime
) -> None:
    """Each row's contact person (with position) on its client, once by name per client; the
    ids go into the row's `before`, for undo."""
    wanted = [
        (line, outcomes[line][1], row)
        for line, row in parsed.items()
        if row.contact
        and row.contact != row.title
        and outcomes[line][0] in ("created", "updated", "joined")
        and outcomes[line][1] is not None
    ]
    if not wanted:
        return
    cp = ContactPerson.__table__
    clients = sorted({client_id for _l, client_id, _r in wanted})
    there = await session.execute(
        sa.select(cp.c.client_id, cp.c.name).where(cp.c.client_id.in_(clients))
    )
    known = {(client_id, fold(name)) for client_id, name in there.all() if name}
    rows, lines = [], []
    for line, client_id, row in wanted:
        assert row.contact is not None
        if (client_id, fold(row.contact)) in known:
            continue
        known.add((client_id, fold(row.contact)))
        rows.append(
            {"client_id": client_id, "name": row.contact, "position": row.position}
            | {"created_at": now, "updated_at": now}
        )
        lines.append(line)
    if not rows:
        return
    made = await session.execute(
        sa.insert(cp).returning(cp.c.id, sort_by_parameter_order=True), rows
    )
    for line, contact_id in zip(lines, made.scalars(), strict=True):
        outcome, client_id, before = outcomes[line]
        outcomes[line] = (outcome, client_id, (before or {}) | {"contacts": [contact_id]})


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
