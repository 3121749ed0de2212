"""Audit entries, written by services next to the change they describe."""

from __future__ import annotations

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
