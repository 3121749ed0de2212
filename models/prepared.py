"""Hot statements run on PostgreSQL without SQLAlchemy's per-execution work.

SQLAlchemy spends more CPU around a small statement than asyncpg and PostgreSQL spend on it:
every `session.execute` walks the statement for its cache key, looks up the compiled form,
builds an execution context, runs the driver call in a greenlet and wraps the rows
(`python -m bench.prepared` prints the three costs side by side). A `Prepared` statement is compiled
once per dialect; on PostgreSQL each run is the driver's prepared statement on the session's
own connection and transaction (SQLAlchemy's asyncpg adapter starts the transaction and keeps
the prepared-statement cache, as for its own statements), with SQLAlchemy's bind and result
type processing applied from the compiled form. Rows are named tuples: `row.name`, `row[0]`
and unpacking work as on SQLAlchemy rows.

Anything else runs as usual: other dialects (SQLite) through `session.execute`, and any error
on the fast path makes SQLAlchemy run the statement again itself, so failures (a dropped
connection, an aborted transaction) surface as SQLAlchemy's exceptions with its connection
invalidation, exactly as they did before.

Only Core statements with plain bound parameters: an IN list (`.in_()`) is rejected at compile
time. Write a fixed list with `one_of` and a list given at run time with `in_bound` (an array
on PostgreSQL, an IN list elsewhere).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

Processor = Callable[[Any], Any] | None


class _Compiled:
    """One statement compiled for asyncpg: its SQL, how to order and convert parameters, how
    to convert and name the columns of a row."""

    __slots__ = ("columns", "dialect", "processors", "row", "slots", "sql")

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if (
            compiled.literal_execute_params
            or compiled.post_compile_params
            or getattr(compiled, "_collected_params", None)
        ):
            raise TypeError(
                "Prepared statements take plain bound parameters, no IN lists (see one_of and "
                f"in_bound): {statement}"
            )
        self.sql = compiled.string
        # Per positional parameter: the names a caller may give it by, the bound value used
        # when they don't, and its type's conversion (SQLAlchemy's construct_params, once).
        escaped = compiled.escaped_bind_names
        binds = {escaped.get(name, name): (b, name) for b, name in compiled.bind_names.items()}
        processors = compiled._bind_processors
        self.slots: tuple[tuple[str, str, sa.BindParameter[Any], Processor], ...] = tuple(
            (binds[key][0].key, binds[key][1], binds[key][0], processors.get(key))
            for key in compiled.positiontup or ()
        )
        self.columns, self.dialect = compiled._result_columns, dialect
        self.row = namedtuple("Row", [c.keyname for c in self.columns], rename=True)  # type: ignore[misc]
        self.processors: tuple[Processor, ...] | None = None  # known at the first run

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        params = params or {}
        arguments = []
        for key, name, bind, process in self.slots:
            if key in params:
                value = params[key]
            elif name in params:
                value = params[name]
            elif bind.required:
                raise sa.exc.InvalidRequestError(f"A value is required for {key!r}")
            else:
                value = bind.effective_value
            arguments.append(process(value) if process is not None else value)
        return arguments

    def rows(self, records: Sequence[Any], description: Sequence[Any] | None) -> list[Any]:
        processors = self.processors
        if processors is None:
            # Some conversions depend on the type the server reports (a NUMERIC or a float).
            types = [d[1] for d in description] if description else [None] * len(self.columns)
            processors = self.processors = tuple(
                c.type._cached_result_processor(self.dialect, oid)
                for c, oid in zip(self.columns, types, strict=True)
            )
        make = self.row._make
        if not any(processors):
            return [make(r) for r in records]
        return [
            make([p(v) if p is not None else v for p, v in zip(processors, r, strict=True)])
            for r in records
        ]


def one_of(column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """`column IN values` for a fixed list, written into the statement as equalities."""
    return sa.or_(*(column == value for value in values))


def in_bound(
    column: sa.ColumnElement[Any],
    name: str,
    type_: sa.types.TypeEngine[Any],
    *,
    arrays: bool,
    negate: bool = False,
) -> sa.ColumnElement[bool]:
    """`column IN :name` (or NOT IN, `negate`) for a list given at run time: bound as an array
    where the backend has them (`arrays`: PostgreSQL, `= ANY` / `<> ALL`), else as an IN list
    (SQLite, where a Prepared statement is run by SQLAlchemy anyway)."""
    if arrays:
        array = sa.bindparam(name, type_=ARRAY(type_))
        return column != sa.all_(array) if negate else column == sa.any_(array)
    values = sa.bindparam(name, expanding=True, type_=type_)
    return column.not_in(values) if negate else column.in_(values)


_CONNECTION = "prepared.connection"


async def _connection(session: AsyncSession) -> sa.Connection:
    """The session's connection in this transaction. Asking the session costs a greenlet
    round (a third of a small statement's CPU), so the answer is kept until the transaction
    ends: commit and rollback close that Connection object, and the next asks again."""
    known: sa.Connection | None = session.info.get(_CONNECTION)
    if known is not None and not known.closed and not known.invalidated:
        return known
    connection = (await session.connection()).sync_connection
    session.info[_CONNECTION] = connection
    return connection


class Prepared:
    """A Core statement built once (at import or in a cached builder) and run many times."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    async def all(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> list[Any]:
        connection = await _connection(session)
        if connection.dialect.driver != "asyncpg":
            return await self._by_sqlalchemy(session, params)
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _Compiled(self.statement, connection.dialect)
        adapter = connection.connection.dbapi_connection
        try:
            cursor = adapter.cursor()  # type: ignore[union-attr]
            # SQLAlchemy's own call for its statements: under the adapter's lock, starting the
            # transaction first if this is the unit of work's first statement, through its
            # prepared-statement cache.
            await cursor._prepare_and_execute(compiled.sql, compiled.arguments(params))
            records, description = cursor.fetchall(), cursor.description
        except Exception:
            # SQLAlchemy runs it again and reports whatever is wrong as it always does.
            return await self._by_sqlalchemy(session, params)
        return compiled.rows(records, description)

    async def _by_sqlalchemy(
        self, session: AsyncSession, params: Mapping[str, Any] | None
    ) -> list[Any]:
        result = await session.execute(self.statement, params)
        # An INSERT with no RETURNING has no rows to fetch (SQLAlchemy raises if asked).
        return list(result.all()) if self.statement.exported_columns else []

    async def first(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Any:
        rows = await self.all(session, params)
        return rows[0] if rows else None

    async def scalar(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Any:
        row = await self.first(session, params)
        return row[0] if row is not None else None
