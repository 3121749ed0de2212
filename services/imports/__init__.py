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
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClientImport
from services import access
from services.actors import Actor
from services.clients import matching
from services.context import Company
from services.errors import Conflict, InvalidInput
from services.imports import reading
from services.imports.applying import run, start
from services.imports.common import _I, _R, BATCH, MATCHES, _mine, _owner
from services.imports.reading import FIELDS, Table
from services.imports.rows import Parsed, _within, group_of, grouped, parse_row
from services.imports.undoing import Undone, undo

__all__ = [
    "MATCHES",
    "ImportView",
    "Parsed",
    "Undone",
    "parse_row",
    "preview",
    "recent",
    "run",
    "start",
    "undo",
    "upload",
    "view",
]


async def upload(
    session: AsyncSession, data: bytes, filename: str, *, by: Actor, now: datetime
) -> int:
    """Keep the file's rows; the import's id."""
    access.require_bulk(by)
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
    for first in range(0, len(rows), 5000):
        await session.execute(sa.insert(_R), rows[first : first + 5000])
    return import_id


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
    judge = _Judge(found.office_id, grouped(mapping))
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
            outcome, reason, client_id = judge.row(line, row, known)
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


class _Judge:
    """The dry run's verdict on each row, in the file's order: new, matched (an existing client
    has its phone or e-mail), joined (a contact of a company an earlier row brings), or
    invalid with the reason."""

    def __init__(self, office_id: int | None, grouping: bool) -> None:
        self.office_id, self.grouping = office_id, grouping
        self.seen: dict[matching.Identity, tuple[int, str | None]] = {}  # line, company
        self.leaders: dict[str, tuple[int, int | None]] = {}  # company → line, client matched

    def row(
        self, line: int, row: Parsed, known: dict[matching.Identity, matching.ResolvedClient]
    ) -> tuple[str, str | None, int | None]:
        if row.reason is not None:
            return "invalid", row.reason, None
        group = group_of(row) if self.grouping else None
        for identity in row.identities:  # the same phone twice: one client, or one company's
            if identity in self.seen:
                first, its_group = self.seen[identity]
                if group is None or its_group != group:
                    return "invalid", f"repeat:{first}", None
        match = matching.best_match(known, row.identities)
        if group is not None and group in self.leaders:
            leader, client_id = self.leaders[group]
            if match is not None and match.id != client_id:
                return "invalid", "other_client", None
            self._saw(line, row, group)
            return "joined", f"joins:{leader}", client_id
        if match is not None and not _within(match, self.office_id):
            return "invalid", "another_office", None
        self._saw(line, row, group)
        if group is not None:
            self.leaders[group] = (line, match.id if match else None)
        return ("matched", None, match.id) if match is not None else ("new", None, None)

    def _saw(self, line: int, row: Parsed, group: str | None) -> None:
        for identity in row.identities:
            self.seen.setdefault(identity, (line, group))


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
    for outcome in ("invalid", "matched", "new", "joined", "created", "updated", "skipped"):
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
    access.require_bulk(by)
    stmt = sa.select(ClientImport).order_by(ClientImport.id.desc()).limit(limit)
    if not access.sees_every_bulk(by):
        stmt = stmt.where(ClientImport.actor_id == by.id)
    return list((await session.scalars(stmt)).all())
