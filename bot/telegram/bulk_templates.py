"""The admin web's bulk changes as Telegram shows them: one summary per employee per
operation (services.bulk), in their own language."""

from __future__ import annotations

import html
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import GiveUp
from bot.telegram.rendering import Context, Rendered, Renderer
from config.i18n import Translator
from services import bulk
from services.outbox import Claimed

EVENTS = (
    "given",
    "taken",
    "given_back",
    "taken_back",
    "moved",
    "moved_back",
    "tasks_given",
    "tasks_cancelled",
    "tasks_closed",
    "tasks_reopened",
    "leads_rejected",
    "leads_renewed",
    "deleted",
    "restored",
)


async def summary(
    _session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> Rendered:
    """E.g. "You have been given 120 deals and 14 tasks by Anna (bulk change #7)"."""
    event = row.payload.get("event")
    if event not in EVENTS:
        raise GiveUp(f"no bulk summary for {event!r}")
    counts = {str(k): int(v) for k, v in dict(row.payload.get("counts") or {}).items()}
    text = t(
        f"bulk.summary.{event}",
        what=t.counts("bulk.n", counts, bulk.ORDER),
        by=row.payload.get("by", ""),
        to=row.payload.get("to", ""),
        stage=row.payload.get("stage", ""),
        title=row.payload.get("title", ""),
        status=t(f"bulk.closed_as.{status}") if (status := row.payload.get("status")) else "",
        due=t.when(datetime.fromisoformat(due), context.timezone)
        if (due := row.payload.get("due"))
        else "",
        id=row.payload["operation_id"],
    )
    return Rendered(html.escape(text), None)


TEMPLATES: dict[str, Renderer] = {bulk.SUMMARY: summary}
