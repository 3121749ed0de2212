"""Ticket screens: the topics to pick, the draft being written, the card support sees (and the
author, from "my tickets"), one reply of a thread (a message of its own, headed by who wrote
it, with its photo or file), "my tickets" and support's queue by category and age."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from aiogram.utils.formatting import Bold, Text, as_key_value, as_list

from bot.telegram.html import as_html
from bot.telegram.limits import LONG_FIELD, clip
from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import (
    NewTicketCallback,
    TicketAbout,
    TicketAction,
    TicketCallback,
    TicketDraftAction,
    TicketDraftCallback,
    TicketListCallback,
    TicketListView,
)
from models import Role, TicketStatus
from services import tickets
from services.actors import Actor

Rows = list[list[Button]]


def categories(
    names: Sequence[str],
    t: Translator,
    *,
    about: str | None = None,
    kind: TicketAbout = TicketAbout.NOTHING,
    record_id: int = 0,
) -> Screen:
    rows: Rows = [
        [
            button(
                clip(name, 60),
                NewTicketCallback(category=n, about=kind, record_id=record_id),
            )
        ]
        for n, name in enumerate(names, start=1)
    ]
    rows.append(
        [button(t("ticket.button.cancel"), TicketDraftCallback(action=TicketDraftAction.CANCEL))]
    )
    key = "ticket.pick_category_about" if about else "ticket.pick_category"
    return Screen.of(Text(t(key, about=clip(about or "", 60))), rows)


def draft(text: bool, files: int, t: Translator) -> Screen:
    said = t("ticket.draft_text_yes" if text else "ticket.draft_text_no")
    rows: Rows = [
        [
            button(t("ticket.button.send"), TicketDraftCallback(action=TicketDraftAction.SEND)),
            button(t("ticket.button.cancel"), TicketDraftCallback(action=TicketDraftAction.CANCEL)),
        ]
    ]
    return Screen.of(Text(t("ticket.draft", text=said, files=files)), rows)


def card(ticket: tickets.TicketCard, t: Translator, tz: tzinfo, *, viewer: Actor | None) -> Screen:
    author = ticket.author + (f" ({ticket.author_office})" if ticket.author_office else "")
    fields = [
        as_key_value(t("ticket.from"), clip(author)),
        as_key_value(t("ticket.status"), t(f"ticket.state.{ticket.status.value}")),
        as_key_value(t("ticket.created"), t.when(ticket.created_at, tz)),
    ]
    if ticket.assignee:
        fields.append(as_key_value(t("ticket.taken_by"), clip(ticket.assignee)))
    if ticket.client:
        fields.append(as_key_value(t("ticket.about"), clip(ticket.client)))
    if ticket.lead_id:
        fields.append(as_key_value(t("ticket.lead"), f"#{ticket.lead_id}"))
    if ticket.deal_id:
        fields.append(as_key_value(t("ticket.deal"), f"#{ticket.deal_id}"))
    body = [
        Bold(t("ticket.card_title", id=ticket.id, category=clip(ticket.category, 60))),
        Text(clip(ticket.subject, LONG_FIELD)),
        as_list(*fields),
        Text(t("ticket.counts", replies=ticket.replies, files=ticket.files)),
    ]
    return Screen.of(as_list(*body, sep="\n\n"), _card_buttons(ticket, t, viewer))


def reply(
    view: tickets.ReplyView, t: Translator, tz: tzinfo, *, viewer: Actor | None
) -> tuple[str, Rows, tuple[str, str] | None]:
    """One reply as a message: its heading, text and buttons, and its photo or file (kind,
    file_id) when it has one (then the text is the caption)."""
    key = "ticket.reply_head_support" if view.by_support else "ticket.reply_head"
    head = t(key, id=view.ticket_id, category=clip(view.category, 40), who=clip(view.author, 60))
    lines = [Bold(head), Text(t.when(view.created_at, tz))]
    if view.text:  # a caption has room for less (Telegram: 1,024 characters)
        lines.append(Text(clip(view.text, 800 if view.file_id else 3800)))
    elif view.media_kind == "document":
        lines.append(Text(t("ticket.media_document", name=clip(view.file_name or "—", 100))))
    elif view.media_kind == "photo":
        lines.append(Text(t("ticket.media_photo")))
    text = as_html(as_list(*lines))
    media = (view.media_kind or "document", view.file_id) if view.file_id else None
    rows: Rows = []
    if view.ticket_status is not TicketStatus.CLOSED and _may_answer(
        viewer, view.ticket_author_id, view.ticket_assignee_id
    ):
        rows.append(
            [
                button(t("ticket.button.reply"), _on_reply(TicketAction.REPLY, view.ticket_id)),
                button(t("ticket.button.close"), _on_reply(TicketAction.CLOSE, view.ticket_id)),
            ]
        )
    return text, rows, media


def my_list(
    lines: Sequence[tickets.TicketLine], total: int, page: int, t: Translator, *, support: bool
) -> Screen:
    rows: Rows = [
        [
            button(
                clip(
                    t(
                        "ticket.line",
                        id=line.id,
                        status=t(f"ticket.state.{line.status.value}"),
                        subject=line.subject,
                    ),
                    60,
                ),
                _ticket(TicketAction.OPEN, line.id),
            )
        ]
        for line in lines
    ]
    rows += _pager(TicketListView.MINE, 0, page, total)
    rows.append([button(t("ticket.button.ticket"), NewTicketCallback())])
    if support:
        rows.append(
            [button(t("ticket.button.queue"), TicketListCallback(view=TicketListView.QUEUE))]
        )
    title = Bold(t("ticket.mine", count=total))
    return Screen.of(title if lines else as_list(title, Text(t("ticket.empty")), sep="\n\n"), rows)


def queue(
    summary: Sequence[tickets.CategoryLine],
    names: Sequence[str],
    t: Translator,
    *,
    now: datetime,
) -> Screen:
    rows: Rows = []
    for line in summary:
        number = names.index(line.category) + 1 if line.category in names else 0
        label = t(
            "ticket.queue_line",
            category=line.category,
            count=line.count,
            age=age(now - line.oldest, t),
        )
        data = TicketListCallback(view=TicketListView.CATEGORY, category=number)
        rows.append([button(clip(label, 60), data)])
    rows.append([button(t("ticket.button.mine"), TicketListCallback(view=TicketListView.MINE))])
    title = Bold(t("ticket.queue", count=sum(line.count for line in summary)))
    return Screen.of(
        title if summary else as_list(title, Text(t("ticket.empty")), sep="\n\n"), rows
    )


def queue_of(
    category: str,
    number: int,
    lines: Sequence[tickets.TicketLine],
    total: int,
    page: int,
    t: Translator,
    *,
    now: datetime,
) -> Screen:
    rows: Rows = [
        [
            button(
                clip(
                    t(
                        "ticket.queue_ticket",
                        id=line.id,
                        age=age(now - line.created_at, t),
                        subject=line.subject,
                    ),
                    60,
                ),
                _ticket(TicketAction.OPEN, line.id),
            )
        ]
        for line in lines
    ]
    rows += _pager(TicketListView.CATEGORY, number, page, total)
    rows.append([button(t("ticket.button.back"), TicketListCallback(view=TicketListView.QUEUE))])
    return Screen.of(
        Bold(t("ticket.queue_category", category=clip(category, 60), count=total)), rows
    )


def age(delta: object, t: Translator) -> str:
    seconds = max(int(delta.total_seconds()), 0)  # type: ignore[attr-defined]
    if seconds < 3600:
        return t("ticket.age_minutes", n=max(seconds // 60, 1))
    if seconds < 86400:
        return t("ticket.age_hours", n=seconds // 3600)
    return t("ticket.age_days", n=seconds // 86400)


# --- inside


def _may_answer(viewer: Actor | None, author_id: int, assignee_id: int | None) -> bool:
    if viewer is None:
        return True
    if viewer.id == author_id:
        return True
    return viewer.role is Role.SUPPORT and assignee_id in (None, viewer.id)


def _card_buttons(ticket: tickets.TicketCard, t: Translator, viewer: Actor | None) -> Rows:
    rows: Rows = []
    thread = button(t("ticket.button.thread"), _ticket(TicketAction.THREAD, ticket.id))
    if ticket.status is TicketStatus.CLOSED:
        return [[thread]]
    support = viewer is None or viewer.role is Role.SUPPORT
    if support and ticket.assignee_id is None and (viewer is None or viewer.id != ticket.author_id):
        rows.append([button(t("ticket.button.take"), _ticket(TicketAction.TAKE, ticket.id))])
    if _may_answer(viewer, ticket.author_id, ticket.assignee_id):
        rows.append(
            [
                button(t("ticket.button.reply"), _ticket(TicketAction.REPLY, ticket.id)),
                button(t("ticket.button.close"), _ticket(TicketAction.CLOSE, ticket.id)),
            ]
        )
    rows.append([thread])
    return rows


def _ticket(action: TicketAction, ticket_id: int) -> TicketCallback:
    return TicketCallback(action=action, ticket_id=ticket_id)


def _on_reply(action: TicketAction, ticket_id: int) -> TicketCallback:
    return TicketCallback(action=action, ticket_id=ticket_id, on_reply=True)


def _pager(view: TicketListView, category: int, page: int, total: int) -> Rows:
    pages = max((total + tickets.PAGE_SIZE - 1) // tickets.PAGE_SIZE, 1)
    pager: list[Button] = []
    if page > 0:
        pager.append(button("‹", TicketListCallback(view=view, category=category, page=page - 1)))
    if page + 1 < pages:
        pager.append(button("›", TicketListCallback(view=view, category=category, page=page + 1)))
    return [pager] if pager else []
