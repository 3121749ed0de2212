"""A bulk delete's trash (`bulk_trash`): rows taken out of their tables, every column kept as
JSON, put back by undo, forgotten for good once the undo window has passed.

Putting back goes parents first. A row's link to a row taken out with it follows that row to
the id it came back under; a link to any other row must still find it, or the row stays out
(what hung on it too). A row whose unique key (a phone, a chat, a provider's message id) a new
row holds now is not put back: what linked to it links to that new row. A row whose id a new
one took (SQLite hands out the highest id again) comes back under a new id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Base, BulkOperation, BulkTrash
from models.base import UTCDateTime
from models.db import insert_ignoring_conflicts

CHUNK = 5000  # values bound in one statement (SQLite and asyncpg both stop at 32,767)
_TRASH, _OP = BulkTrash.__table__, BulkOperation.__table__


def chunks(values: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


async def rows(
    session: AsyncSession, table: sa.Table, where: sa.ColumnElement[bool]
) -> list[dict[str, Any]]:
    found = await session.execute(sa.select(table).where(where))
    return [dict(row._mapping) for row in found.all()]


async def put_in(
    session: AsyncSession, op_id: int, table: sa.Table, taken: list[dict[str, Any]]
) -> None:
    """Keep the rows in the operation's trash and take them out of their table (a row with a
    link to another of them after the one it links to: a merged card before its survivor)."""
    if not taken:
        return
    keyed = "id" in table.c
    await session.execute(
        sa.insert(_TRASH),
        [
            {"operation_id": op_id, "table_name": table.name}
            | {"row_id": row["id"] if keyed else n}
            | {"data": {name: _plain(value) for name, value in row.items()}}
            for n, row in enumerate(taken, start=1)
        ],
    )
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    ordered = sorted(taken, key=lambda row: all(row[c] is None for c in own))
    key = list(table.primary_key.columns)
    for chunk in chunks(ordered):
        if keyed:
            await session.execute(sa.delete(table).where(table.c.id.in_([r["id"] for r in chunk])))
            continue
        for row in chunk:  # a few per record (tags, copies of a message)
            await session.execute(sa.delete(table).where(*[c == row[c.name] for c in key]))


def tables_of(names: Sequence[str]) -> list[sa.Table]:
    """The tables named, parents first (the schema's own order)."""
    return [table for table in Base.metadata.sorted_tables if table.name in names]


async def take_out(
    session: AsyncSession, op_id: int, root: sa.Table, ids: list[int], owned: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The `root` rows `ids` (with the rows of the root table linked to them: a card merged
    into a chosen client) and every row of the `owned` tables that hangs on them, followed by
    the schema's foreign keys, into the trash, children first; what was taken, by table.
    A row of another table that links to one of them loses the link (kept in the trash as
    "table:column", for `relink`)."""
    tables = tables_of(owned)
    collected: dict[str, set[int]] = {root.name: await _linked_in(session, root, set(ids))}
    found: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        links = (
            [("id", root.name)]
            if table is root
            else [
                (fk.parent.name, fk.column.table.name)
                for fk in table.foreign_keys
                if fk.column.table.name in collected and fk.column.table is not table
            ]
        )
        key = [c.name for c in table.primary_key.columns]
        taken: dict[tuple[Any, ...], dict[str, Any]] = {}
        for column, parent in links:
            for chunk in chunks(sorted(collected[parent])):
                for row in await rows(session, table, table.c[column].in_(chunk)):
                    taken[tuple(row[k] for k in key)] = row
        found[table.name] = list(taken.values())
        if "id" in table.c:
            collected[table.name] = {row["id"] for row in found[table.name]}
    await _unlink_others(session, op_id, owned, collected)
    for table in reversed(tables):
        await put_in(session, op_id, table, found[table.name])
    return found


async def _linked_in(session: AsyncSession, table: sa.Table, ids: set[int]) -> set[int]:
    """`ids` and the rows of the same table that link to them (in chains)."""
    own = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
    found, frontier = set(ids), set(ids)
    while own and frontier:
        more: set[int] = set()
        for column in own:
            for chunk in chunks(sorted(frontier)):
                more |= set(await session.scalars(sa.select(table.c.id).where(column.in_(chunk))))
        frontier = more - found
        found |= frontier
    return found


async def _unlink_others(
    session: AsyncSession, op_id: int, owned: Sequence[str], collected: dict[str, set[int]]
) -> None:
    """Rows of tables that are not taken lose their links to rows that are (a ticket about a
    deleted deal stays, without the deal); the trash keeps each link for `relink`."""
    for table in Base.metadata.sorted_tables:
        if table.name in owned:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent not in collected or not collected[parent]:
                continue
            column = table.c[fk.parent.name]
            for chunk in chunks(sorted(collected[parent])):
                linked = (
                    await session.execute(sa.select(table.c.id, column).where(column.in_(chunk)))
                ).all()
                if not linked:
                    continue
                await session.execute(
                    sa.insert(_TRASH),
                    [
                        {"operation_id": op_id, "table_name": f"{table.name}:{column.name}"}
                        | {"row_id": row_id, "data": {column.name: value}}
                        for row_id, value in linked
                    ],
                )
                await session.execute(
                    sa.update(table).where(column.in_(chunk)).values({column.name: None})
                )


async def relink(session: AsyncSession, kept: dict[str, list[dict[str, Any]]], back: Back) -> None:
    """Links `take_out` cut, set again to the rows as they came back (if they did, and if
    nothing else was linked there since)."""
    for name, links in kept.items():
        if ":" not in name:
            continue
        table_name, column_name = name.split(":")
        table = Base.metadata.tables[table_name]
        column = table.c[column_name]
        parent = next(fk.column.table.name for fk in column.foreign_keys)
        ids = back.ids.get(parent, {})
        again = [
            {"i": link["row_id"], "v": ids[link[column_name]]}
            for link in links
            if link[column_name] in ids
        ]
        if again:
            await session.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("i"), column.is_(None))
                .values({column_name: sa.bindparam("v")}),
                again,
            )


def _plain(value: Any) -> Any:
    """A column's value as JSON keeps it (read back by the column's type: `_typed`)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _typed(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, UTCDateTime | sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal(value)
    if isinstance(kind, sa.Enum) and kind.enum_class is not None:
        return kind.enum_class(value)
    return value


async def taken_out(session: AsyncSession, op_id: int) -> dict[str, list[dict[str, Any]]]:
    """What the operation took out, by table, as it was (and the links it cut, by
    "table:column", each with its row's id)."""
    found = await session.execute(
        sa.select(_TRASH.c.table_name, _TRASH.c.row_id, _TRASH.c.data)
        .where(_TRASH.c.operation_id == op_id)
        .order_by(_TRASH.c.table_name, _TRASH.c.row_id)
    )
    kept: dict[str, list[dict[str, Any]]] = {}
    for table_name, row_id, data in found.all():
        kept.setdefault(table_name, []).append(
            {**data, "row_id": row_id} if ":" in table_name else data
        )
    return kept


async def existing(session: AsyncSession, table: sa.Table, ids: list[int]) -> set[int]:
    return set(await session.scalars(sa.select(table.c.id).where(table.c.id.in_(ids))))


class Back:
    """Rows going back into their tables, and the ids they came back under."""

    def __init__(self, session: AsyncSession, kept: dict[str, list[dict[str, Any]]]) -> None:
        self.session = session
        self.trashed = {name: {r["id"] for r in rows if "id" in r} for name, rows in kept.items()}
        self.ids: dict[str, dict[int, int]] = {}  # table → old id → id now

    async def put(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert the rows again, parents put back first (see the module's rules)."""
        ready = [
            {name: _typed(table.c[name], v) for name, v in data.items() if name in table.c}
            for data in rows
        ]
        own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
        for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
            if fk.column.table is not table:
                ready = await self._linked(ready, fk.parent.name, fk.column.table)
        if "id" not in table.c:
            if ready:
                await self.session.execute(insert_ignoring_conflicts(self.session, table), ready)
            return
        mapped = self.ids.setdefault(table.name, {})
        ready = await self._same_keys(table, ready, mapped)
        kept_at = ["updated_at"] if "updated_at" in table.c else []  # an update's default
        later = {row["id"]: {c: row[c] for c in [*own, *kept_at]} for row in ready}
        ready = [{**row, **dict.fromkeys(own)} for row in ready]
        taken: set[int] = set()
        for chunk in chunks([row["id"] for row in ready]):
            taken |= await existing(self.session, table, chunk)
        free = [row for row in ready if row["id"] not in taken]
        for start in range(0, len(free), 1000):
            await self.session.execute(sa.insert(table), free[start : start + 1000])
        mapped.update((row["id"], row["id"]) for row in free)
        for row in ready:
            if row["id"] in taken:  # a new row has its id now (SQLite reuses the highest)
                old = row.pop("id")
                made = await self.session.execute(
                    sa.insert(table).values(row).returning(table.c.id)
                )
                mapped[old] = made.scalar_one()
        if own:
            await self._own_links(table, later, mapped)

    async def _own_links(
        self, table: sa.Table, later: dict[int, dict[str, Any]], mapped: dict[int, int]
    ) -> None:
        """Links within the table (a merged card to its survivor, a reply to its message),
        set once every row is in: to the row's id now, or left empty if it did not come."""
        for old, links in later.items():
            stamp = {c: links.pop(c) for c in ("updated_at",) if c in links}
            values = {c: mapped.get(v) for c, v in links.items() if v is not None}
            values = {c: v for c, v in values.items() if v is not None}
            if values and old in mapped:
                values |= stamp  # as it was, not the moment of the undo
                await self.session.execute(
                    sa.update(table).where(table.c.id == mapped[old]).values(values)
                )

    async def _same_keys(
        self, table: sa.Table, rows: list[dict[str, Any]], mapped: dict[int, int]
    ) -> list[dict[str, Any]]:
        """Rows whose unique key a row in the table holds now are not put back; links to
        them go to that row (the client's chat, opened again since, takes its messages)."""
        for constraint in table.constraints:
            if not isinstance(constraint, sa.UniqueConstraint):
                continue
            names = [c.name for c in constraint.columns]
            last = table.c[names[-1]]
            values = sorted({r[names[-1]] for r in rows if r[names[-1]] is not None})
            holders: dict[tuple[Any, ...], int] = {}
            for chunk in chunks(values):
                found = await self.session.execute(
                    sa.select(table.c.id, *[table.c[n] for n in names]).where(last.in_(chunk))
                )
                holders |= {tuple(row[1:]): row[0] for row in found.all()}
            kept = []
            for row in rows:
                holder = holders.get(tuple(row[n] for n in names))
                if holder is None:
                    kept.append(row)
                else:
                    mapped[row["id"]] = holder
            rows = kept
        return rows

    async def _linked(
        self, rows: list[dict[str, Any]], column: str, parent: sa.Table
    ) -> list[dict[str, Any]]:
        """The rows whose `column` still finds its row of `parent`, pointed at its id now."""
        trashed = self.trashed.get(parent.name, set())
        back = self.ids.get(parent.name, {})
        elsewhere = sorted({r[column] for r in rows if r[column] is not None} - trashed)
        there: set[int] = set()
        for chunk in chunks(elsewhere):
            there |= await existing(self.session, parent, chunk)
        found = []
        for row in rows:
            old = row[column]
            if old is None or old in there:
                found.append(row)
            elif old in back:
                found.append({**row, column: back[old]})
        return found


EMPTIED_PER_RUN = 20  # operations whose trash one run empties


async def empty(session: AsyncSession, *, now: datetime) -> tuple[int, bool]:
    """Forget for good what bulk deletes took out once their undo window has passed (undo is
    refused from then on); (rows forgotten, whether more operations are waiting)."""
    expired = list(
        await session.scalars(
            sa.select(_TRASH.c.operation_id)
            .join(_OP, _OP.c.id == _TRASH.c.operation_id)
            .where(_OP.c.undo_until <= now)
            .distinct()
            .order_by(_TRASH.c.operation_id)
            .limit(EMPTIED_PER_RUN)
        )
    )
    if not expired:
        return 0, False
    gone = await session.execute(sa.delete(_TRASH).where(_TRASH.c.operation_id.in_(expired)))
    return gone.rowcount or 0, len(expired) == EMPTIED_PER_RUN
