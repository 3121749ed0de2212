"""The lead queue as managers and admins see it in Telegram (`/queue`): a list with buttons."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from config.i18n import Translator
from handlers.callbacks import QueueAction, QueueCallback
from services.clients.identities import format_phone
from services.leads.queue import Person, QueueView

Rendered = tuple[str, InlineKeyboardMarkup | None]
NAME_LIMIT = 40  # a line per lead stays short however long the name the form sent


def queue_list(view: QueueView, t: Translator, *, timezone: tzinfo) -> Rendered:
    if not view.leads:
        return escape(t("queue.empty")), None
    lines = [f"<b>{escape(t('queue.title', count=view.total))}</b>", ""]
    rows = []
    for lead in view.leads:
        when = lead.created_at.astimezone(timezone).strftime("%d.%m %H:%M")
        phone = lead.phone
        if phone and phone.startswith("+"):
            phone = format_phone(phone)
        text = t(
            "queue.lead",
            lead_id=lead.id,
            when=when,
            name=(lead.name or "—")[:NAME_LIMIT],
            phone=(phone or "—")[:NAME_LIMIT],
            source=lead.source[:NAME_LIMIT],
        )
        lines.append(escape(text))
        rows.append(
            [
                _button(t("queue.me", lead_id=lead.id), QueueAction.MINE, lead.id),
                _button(t("queue.pick", lead_id=lead.id), QueueAction.PICK, lead.id),
            ]
        )
    if view.total > len(view.leads):
        lines.append(escape(t("queue.more", count=view.total - len(view.leads))))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def pick(lead_id: int, people: list[Person], t: Translator) -> Rendered:
    """Whom to give the lead to: one button per employee on duty, and back to the list."""
    key = "queue.pick_title" if people else "queue.nobody_on_duty"
    rows = [
        [_button(p.name[:NAME_LIMIT], QueueAction.GIVE, lead_id, employee_id=p.id)]
        for p in people[:20]
    ]
    rows.append([_button(t("queue.me", lead_id=lead_id), QueueAction.MINE, lead_id)])
    rows.append([_button(t("queue.back"), QueueAction.LIST)])
    return escape(t(key, lead_id=lead_id)), InlineKeyboardMarkup(inline_keyboard=rows)


def _button(
    text: str, action: QueueAction, lead_id: int = 0, *, employee_id: int = 0
) -> InlineKeyboardButton:
    data = QueueCallback(action=action, lead_id=lead_id, employee_id=employee_id).pack()
    return InlineKeyboardButton(text=text, callback_data=data)
