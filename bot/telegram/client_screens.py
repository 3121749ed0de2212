"""The client card as a screen. STUB: name and id only; the client-card feature replaces the
inside, keeping `client_card`'s signature (find, merge and lead screens call it)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.utils.formatting import Bold, Text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.screens import Screen
from config.i18n import Translator
from services.actors import Actor
from services.clients import visibility


async def client_card(
    session: AsyncSession,
    client_id: int,
    *,
    by: Actor,
    t: Translator,
    tz: ZoneInfo,
    page: int = 0,
) -> Screen:
    """The card of a client `by` may see (raises NotFound / AccessDenied otherwise), with
    timeline page `page` (0 = newest)."""
    client = await visibility.require(session, client_id, by)
    return Screen.of(Text(Bold(client.name or "—"), f" #{client.id}"))
