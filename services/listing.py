"""Keyset paging and sorting for the admin web's lists: a page starts after the last row of
the one before (its sort value and id), never at an OFFSET, so the thousandth page costs what
the first does. Every list pages on a non-null sort expression with the primary key breaking
ties; the cursor is those two values as text in the page's links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from models import Employee
from services import audit

Row = TypeVar("Row")
MAX_ID = 2**62
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class Order:
    """One way to sort a list: `key` (None: by id alone), falling or rising, and how to read
    the key back from a cursor."""

    key: ColumnElement[Any] | None
    descending: bool = True
    read: Callable[[str], Any] = int


@dataclass(frozen=True)
class Page(Generic[Row]):
    rows: list[Row]
    next_after: str | None  # the cursor of the next page; None on the last one


def ordered(
    stmt: Select[Any], order: Order, id_column: ColumnElement[int], after: str | None
) -> Select[Any]:
    """`stmt` sorted by `order`, starting after the cursor `after` (a cursor that cannot be
    read is the first page: it came from a hand-typed URL)."""
    columns = [id_column] if order.key is None else [order.key, id_column]
    stmt = stmt.order_by(*(c.desc() if order.descending else c.asc() for c in columns))
    start = _read(order, after)
    if start is None:
        return stmt
    if order.key is None:
        return stmt.where(id_column < start[1] if order.descending else id_column > start[1])
    key, row = sa.tuple_(order.key, id_column), sa.tuple_(*start)
    return stmt.where(key < row if order.descending else key > row)


def window(
    order: Order,
    id_column: ColumnElement[int],
    conditions: Sequence[ColumnElement[bool]],
    after: str | None,
    size: int,
) -> sa.Subquery:
    """The ids (and sort keys) of one page, chosen from the list's own table alone: `id` and
    `sort_key` of the `size + 1` rows after `after`. The page's other columns are joined to
    these few rows afterwards (a "deferred join"): however the planner misjudges how many rows
    a cursor leaves (PostgreSQL estimates a row comparison from its first column only, so a
    cursor inside a run of equal keys looks like no rows at all), the page is read straight off
    the sort index and never joins the whole table first."""
    key = order.key if order.key is not None else id_column
    inner = sa.select(id_column.label("id"), key.label("sort_key")).where(*conditions)
    return ordered(inner, order, id_column, after).limit(size + 1).subquery("page")


def in_order(window: sa.Subquery, order: Order) -> list[ColumnElement[Any]]:
    """ORDER BY for the joined page, as the window was sorted."""
    columns = [window.c.id] if order.key is None else [window.c.sort_key, window.c.id]
    return [c.desc() if order.descending else c.asc() for c in columns]


async def fetch(
    session: AsyncSession, stmt: Select[Any], order: Order, size: int, row: Callable[..., Row]
) -> Page[Row]:
    """Run a page's statement (its window joined to the rest, selecting `sort_key` last) and
    make each of the first `size` rows with `row(*columns_but_the_key)`."""
    rows = (await session.execute(stmt)).all()

    def cursor(found: Any) -> str:
        return cursor_of(found.sort_key if order.key is not None else None, found.id)

    shown = page(rows, size, cursor)
    return Page([row(*found[:-1]) for found in shown.rows], shown.next_after)


def in_office(
    office: ColumnElement[int | None], holder: ColumnElement[int | None], office_id: int
) -> ColumnElement[bool]:
    """A record of the office: its own office, else (none set) its holder's. Without a join,
    so a page's window is read from the record's table alone."""
    staff = sa.select(Employee.id).where(Employee.office_id == office_id)
    return sa.or_(office == office_id, sa.and_(office.is_(None), holder.in_(staff)))


def page(rows: Sequence[Any], size: int, cursor: Callable[[Any], str]) -> Page[Any]:
    """The first `size` of `rows` (fetched with `size + 1`: one more tells a page follows)."""
    shown = list(rows[:size])
    return Page(shown, cursor(shown[-1]) if len(rows) > size else None)


def cursor_of(key: Any, row_id: int) -> str:
    if isinstance(key, datetime):
        key = key.isoformat()
    return f"{row_id}" if key is None else f"{key}~{row_id}"


def _read(order: Order, after: str | None) -> tuple[Any, int] | None:
    if not after:
        return None
    key, _, row_id = after.rpartition("~")
    try:
        start = (order.read(key) if order.key is not None else None), int(row_id)
    except (ValueError, InvalidOperation, OverflowError):
        return None
    return start if 0 < start[1] <= MAX_ID else None


def decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite() or abs(value) >= 10**15:  # beyond any NUMERIC(14, 2)
        raise InvalidOperation(text)
    return value


def moment(text: str) -> datetime:
    """A datetime key of a cursor: aware, as it was written."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(text)
    return value


def escaped(text: str) -> str:
    """`text` for a LIKE pattern with `escape="\\\\"`: its own % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def every_row(
    session: AsyncSession,
    page_of: Callable[..., Awaitable[Page[Any]]],
    shown: Any,
    *,
    sort: Any,
    what: str,
    wanted: str,
    filters: str,
    by: Any,
    now: datetime,
) -> AsyncIterator[Any]:
    """Every row a list's filter matches, a thousand at a time by key (memory holds one batch,
    not the list); the export is audit-logged with its row count once all are read (who took
    which data out). `what` names the list ("deals")."""
    count, after = 0, None
    while True:
        found = await page_of(session, shown, sort=sort, after=after, size=EXPORT_BATCH)
        for row in found.rows:
            yield row
        count += len(found.rows)
        if (after := found.next_after) is None:
            break
    await audit.log(
        session,
        action=f"export.{what}",
        entity_type="export",
        entity_id=None,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        count=count,
        format=wanted,
        filters=filters,
    )
