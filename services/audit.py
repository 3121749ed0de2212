"""Audit entries, written by services next to the change they describe."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry


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
    await session.execute(
        sa.insert(AuditEntry).values(
            at=at,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            actor_id=actor_id,
            actor_kind=actor_kind,
            data=data,
        )
    )


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
