"""Audit entries, written by services next to the change they describe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Employee
from models.prepared import Prepared


async def log(
    session: AsyncSession,
    *,
    action: str,
    entity_type: str,
    entity_id: int | None,
    at: datetime,
    actor_id: int | None = None,
    actor_kind: str = "system",
    **data: Any,
) -> None:
    row = {
        "at": at,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "actor_id": actor_id,
        "actor_kind": actor_kind,
        "data": data,
    }
    await _INSERT.all(session, row)


_A = AuditEntry.__table__
_INSERT = Prepared(  # written next to most changes: built once
    sa.insert(_A).values(
        {
            name: sa.bindparam(name, type_=_A.c[name].type)
            for name in (
                "at",
                "action",
                "entity_type",
                "entity_id",
                "actor_id",
                "actor_kind",
                "data",
            )
        }
    )
)


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    action: str
    actor_id: int | None
    actor_kind: str
    actor_name: str | None  # the employee's name, for employees
    data: dict[str, Any]


async def history(
    session: AsyncSession,
    entity_type: str,
    entity_id: int,
    *,
    limit: int = 50,
    before_id: int | None = None,
) -> list[Entry]:
    """An entity's audit entries, newest first; the next page starts `before_id` the last
    entry's id (keyset: pages stay fast however long the history)."""
    stmt = (
        sa.select(AuditEntry, Employee.name)
        .outerjoin(Employee, Employee.id == AuditEntry.actor_id)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return [
        Entry(e.id, e.at, e.action, e.actor_id, e.actor_kind, name, dict(e.data))
        for e, name in (await session.execute(stmt)).all()
    ]


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """What changed, as `{field: [before, after]}` with JSON-safe values; an audit entry of a
    change carries it as `changes=diff(...)`."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)  # Decimal, datetime, enums: as they print


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log pages show: actions starting with `action`, one actor's, in days
    (from `since` to before `until`), and for sign-in attempts the login or address typed."""

    action: str | None = None
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    login: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class EntryPage:
    entries: list[Entry]
    next_before: int | None  # keyset: the next page starts below this id


async def page(
    session: AsyncSession, shown: AuditFilter, *, before: int | None = None, size: int = 50
) -> EntryPage:
    """Entries matching `shown`, newest first, a page at a time by key (the id)."""
    stmt = (
        sa.select(AuditEntry, Employee.name)
        .outerjoin(Employee, Employee.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc())
        .limit(size + 1)
    )
    conditions = []
    if before is not None:
        conditions.append(AuditEntry.id < before)
    if shown.action:
        conditions.append(AuditEntry.action.startswith(shown.action, autoescape=True))
    if shown.actor_id is not None:
        conditions.append(AuditEntry.actor_id == shown.actor_id)
    if shown.since is not None:
        conditions.append(AuditEntry.at >= shown.since)
    if shown.until is not None:
        conditions.append(AuditEntry.at < shown.until)
    if shown.login:
        conditions.append(AuditEntry.data["login"].as_string() == shown.login)
    if shown.address:
        conditions.append(AuditEntry.data["address"].as_string() == shown.address)
    rows = (await session.execute(stmt.where(*conditions))).all()
    entries = [
        Entry(e.id, e.at, e.action, e.actor_id, e.actor_kind, name, dict(e.data))
        for e, name in rows[:size]
    ]
    return EntryPage(entries, entries[-1].id if len(rows) > size else None)
