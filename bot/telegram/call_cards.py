"""Call cards (screen-pop, edited as the call goes on) and "call back" task cards, for
Telegram (HTML). Other tasks' cards: bot.telegram.task_screens."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.cards import history_lines
from bot.telegram.limits import button_url, clip
from config.i18n import Translator
from handlers.callbacks import TaskAction, TaskCallback
from models import CallStatus, Direction, TaskStatus
from services.clients.cards import CallCard, ClientSummary
from services.clients.identities import format_phone
from services.tasks import TaskCard

Rendered = tuple[str, InlineKeyboardMarkup | None]


def call_card(
    card: CallCard, t: Translator, *, tz: tzinfo, public_url: str | None = None
) -> Rendered:
    """Times in `tz` (the viewer's clock); `public_url` lets a recording kept at the PBX open
    through the admin web."""
    title = "call.incoming" if card.direction is Direction.IN else "call.outgoing"
    number = clip(format_phone(card.number)) if card.number else t("call.hidden_number")
    lines = [f"<b>{escape(t(title, number=number))}</b>"]
    if card.line:
        lines.append(escape(t("call.line", value=clip(card.line))))
    lines += ["", *client_lines(card.client, t, tz), "", f"<b>{escape(_state(card, t))}</b>"]
    link = card.recording_url
    if link is None and card.recording_id and public_url:
        link = f"{public_url}/admin/calls/{card.call_id}/recording"
    if card.recording_id and link is None:
        lines.append(escape(t("call.recording_ref", value=clip(card.recording_id))))
    elif link and not button_url(link):  # Telegram would refuse the button: show it as text
        lines.append(escape(t("call.recording_text", value=clip(link))))
    markup = None
    if button_url(link):
        button = InlineKeyboardButton(text=t("call.recording"), url=link)
        markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
    return "\n".join(lines), markup


def _state(card: CallCard, t: Translator) -> str:
    if card.status is CallStatus.MISSED:
        return t("call.missed")
    if card.phase == "ringing":
        return t("call.ringing")
    who = clip(card.employee or "—")
    if card.phase == "talking":
        return t("call.talking", name=who)
    if card.status is CallStatus.ANSWERED:
        minutes, seconds = divmod(card.talk_seconds, 60)
        return t("call.ended", name=who, duration=f"{minutes}:{seconds:02d}")
    return t("call.ended_short")


def call_back_card(card: TaskCard, t: Translator, *, tz: tzinfo) -> Rendered:
    lines = [f"<b>{escape(t('task.call_back', title=clip(card.title)))}</b>"]  # the number
    lines += ["", *client_lines(card.client, t, tz)]
    if card.status is TaskStatus.OPEN:
        lines += ["", escape(t("task.due_now"))]
        button = InlineKeyboardButton(
            text=t("button.done"),
            callback_data=TaskCallback(action=TaskAction.DONE, task_id=card.task_id).pack(),
        )
        return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[button]])
    lines += ["", f"<b>{escape(t('task.done', name=clip(card.assignee or '—')))}</b>"]
    return "\n".join(lines), None


def client_lines(client: ClientSummary | None, t: Translator, tz: tzinfo) -> list[str]:
    if client is None:
        return [escape(t("card.new_client"))]
    lines = [escape(t("card.name", value=clip(client.name)))] if client.name else []
    if client.owner:
        lines.append(escape(t("call.owner", value=clip(client.owner))))
    if client.history.is_empty:
        return [*lines, escape(t("card.new_client"))]
    return lines + history_lines(client.history, t, heading="call.recent", tz=tz)
