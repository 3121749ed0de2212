"""The cards and screens Telegram shows, rendered when sent from the outbox row (so a card
waiting to go out already shows the newest state): a lead's, a call's, a task's (or its
reminder), a digest of several, a ticket's and its replies, a handler's screen."""

from __future__ import annotations

import html
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import GiveUp
from bot.telegram import call_cards, cards, screens, task_screens, ticket_screens
from bot.telegram.rendering import Context, Renderer, clock_of, recipient
from config.i18n import Translator
from models import TaskKind, TaskStatus
from services import notify, outbox, tasks, tickets
from services.clients import cards as client_cards
from services.errors import NotFound
from services.leads import cards as lead_cards
from services.outbox import Claimed


async def _lead(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> cards.Rendered:
    card = await lead_cards.load(session, int(row.payload["lead_id"]))
    seen = await recipient(session, row, context)
    text, markup = cards.lead_card(
        card,
        t,
        tz=clock_of(seen, context),
        unassigned=bool(row.payload.get("unassigned")),
        viewer=seen.actor,
    )
    # A deactivated employee's copy keeps its text but loses its buttons.
    return text, None if seen.former else markup


async def _call(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> cards.Rendered:
    card = await client_cards.call_card(session, int(row.payload["call_id"]))
    tz = clock_of(await recipient(session, row, context), context)
    return call_cards.call_card(card, t, tz=tz, public_url=context.public_url)


async def _task(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> cards.Rendered:
    """A task's card, or a reminder of it (`payload["reminder"]`): a reminder of a task that
    was done or cancelled before it went out is not sent."""
    card = await tasks.card(session, int(row.payload["task_id"]))
    seen = await recipient(session, row, context)
    tz = clock_of(seen, context)
    if card.kind is TaskKind.CALL_BACK:
        return call_cards.call_back_card(card, t, tz=tz)
    reminder = row.payload.get("reminder")
    if reminder and row.edit_of_id is None and card.status is not TaskStatus.OPEN:
        raise GiveUp(f"task {card.task_id} is {card.status.value}: its reminder is void")
    late = row.payload.get("late_from")
    screen = task_screens.card(
        card,
        t,
        tz,
        viewer=seen.actor,
        now=context.clock.now(),
        reminder=reminder,
        late_from=datetime.fromisoformat(late) if late else None,
    )
    # A deactivated employee's copy keeps its text but loses its buttons.
    return screen.text, None if seen.former else screens.markup_of(screen.payload())


async def _digest(
    session: AsyncSession, row: Claimed, t: Translator, _context: Context
) -> cards.Rendered:
    """Several rows of one coalesce group as one message (services.outbox.claim_due)."""
    if row.payload.get("group") == notify.TASK_REMINDERS:
        items = await tasks.lines(session, [int(i) for i in row.payload["entity_ids"]])
        if not items:
            raise NotFound("none of the digest's tasks exist")
        tz = clock_of(await recipient(session, row, _context), _context)
        text, rows = task_screens.reminders_digest(items, t, tz)
        return text, screens.markup_of({"keyboard": rows})
    if row.payload.get("group") != notify.NEW_LEADS:
        raise GiveUp(f"no Telegram digest for {row.payload.get('group')!r}")
    leads = await lead_cards.lines(session, [int(i) for i in row.payload["entity_ids"]])
    if not leads:
        raise NotFound("none of the digest's leads exist")
    return cards.lead_digest(leads, t)


async def _screen(
    _session: AsyncSession, row: Claimed, _t: Translator, _context: Context
) -> cards.Rendered:
    """A screen rendered by a handler (bot.telegram.screens)."""
    return str(row.payload["text"]), screens.markup_of(row.payload)


async def _text(
    _session: AsyncSession, row: Claimed, _t: Translator, _context: Context
) -> cards.Rendered:
    return str(row.payload["text"]), None


async def _ticket_card(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> cards.Rendered:
    card = await tickets.card(session, int(row.payload["ticket_id"]))
    seen = await recipient(session, row, context)
    screen = ticket_screens.card(card, t, clock_of(seen, context), viewer=seen.actor)
    return screen.text, None if seen.former else screens.markup_of(screen.payload())


async def _ticket_reply(
    session: AsyncSession, row: Claimed, t: Translator, context: Context
) -> tuple[str, InlineKeyboardMarkup | None, tuple[str, str] | None]:
    """One reply of a thread, with its photo or file (sent again by Telegram file_id)."""
    view = await tickets.reply_view(session, int(row.payload["reply_id"]))
    if view.ticket_id != int(row.payload["ticket_id"]):
        raise GiveUp("the reply is not of this ticket")  # never another ticket's text
    seen = await recipient(session, row, context)
    text, rows, media = ticket_screens.reply(view, t, clock_of(seen, context), viewer=seen.actor)
    markup = None if seen.former else screens.markup_of({"keyboard": rows})
    return text, markup, media


async def _ticket_closed(
    _session: AsyncSession, row: Claimed, t: Translator, _context: Context
) -> cards.Rendered:
    text = t("ticket.closed_notice", id=row.payload["ticket_id"], by=row.payload.get("by", ""))
    return html.escape(text), None


TEMPLATES: dict[str, Renderer] = {
    notify.LEAD_CARD: _lead,
    notify.CALL_CARD: _call,
    notify.TASK_CARD: _task,
    notify.TICKET_CARD: _ticket_card,
    notify.TICKET_REPLY: _ticket_reply,  # type: ignore[dict-item]
    notify.TICKET_CLOSED: _ticket_closed,
    outbox.DIGEST_KIND: _digest,
    "text": _text,
    screens.SCREEN_KIND: _screen,
}
