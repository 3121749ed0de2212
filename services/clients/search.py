"""Finding clients by what an employee types: a phone in any format, an e-mail, a name or a
company. STUB: words against `Client.search_text` only; the find feature replaces the inside,
keeping `search` and `Found`."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Client
from services.access import HasRole
from services.clients import visibility


@dataclass(frozen=True)
class Found:
    client_id: int
    name: str | None
    company: str | None
    phone: str | None  # E.164, the client's first phone


async def search(session: AsyncSession, text: str, *, by: HasRole, limit: int = 10) -> list[Found]:
    """The clients `by` may see that match `text`, best first."""
    words = text.casefold().replace("ё", "е").split()
    if not words:
        return []
    stmt = sa.select(Client.id, Client.name, Client.company).where(visibility.visible(by))
    for word in words:
        stmt = stmt.where(Client.search_text.contains(word, autoescape=True))
    rows = (await session.execute(stmt.order_by(Client.id.desc()).limit(limit))).all()
    return [Found(i, name, company, None) for i, name, company in rows]
