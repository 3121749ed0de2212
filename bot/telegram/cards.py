"""Client cards rendered for Telegram (HTML) with their inline buttons."""

from __future__ import annotations

from datetime import tzinfo
from decimal import Decimal
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.limits import FIELD, LONG_FIELD, clip
from bot.telegram.screens import Button, button, markup_of
from config.i18n import Translator
from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    DealAction,
    DealCallback,
    LeadAction,
    LeadCallback,
    LeadReassignCallback,
    NewTaskCallback,
    NewTicketCallback,
    TicketAbout,
)
from models import LeadStatus
from services import access
from services.actors import Actor
from services.clients.history import CardHistory
from services.clients.identities import format_phone
from services.clients.timeline import Entry, Kind
from services.leads.cards import LeadCard, LeadLine

Rendered = tuple[str, InlineKeyboardMarkup | None]

TIMELINE_TEXT = 300  # a note or message on a timeline line


def lead_card(
    card: LeadCard,
    t: Translator,
    *,
    tz: tzinfo,
    unassigned: bool = False,
    viewer: Actor | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card as `viewer` sees it (None: whoever the chat is, with every button), times in
    `tz` (their clock): only those who may act on the lead get buttons, and a reassigned
    lead's old copy says so."""
    text = lead_card_text(card, t, tz=tz, unassigned=unassigned, viewer=viewer)
    return text, markup_of({"keyboard": lead_keyboard(card, t, viewer=viewer)})


def lead_card_text(
    card: LeadCard,
    t: Translator,
    *,
    tz: tzinfo,
    unassigned: bool = False,
    viewer: Actor | None = None,
) -> str:
    title_key = "card.unassigned" if unassigned and card.assignee_id is None else "card.new_lead"
    lines = [f"<b>{escape(t(title_key, lead_id=card.lead_id))}</b>", ""]
    lines.append(_line(t, "card.name", card.name) if card.name else escape(t("card.no_name")))
    if card.phone:
        lines.append(_line(t, "card.phone", format_phone(card.phone)))
    elif card.raw_phone:
        lines.append(_line(t, "card.phone_invalid", card.raw_phone))
    if card.email:
        lines.append(_line(t, "card.email", card.email))
    lines.append(_line(t, "card.source", card.source))
    for key, value in (("card.form", card.form_name), ("card.landing", card.landing_url)):
        if value:
            lines.append(_line(t, key, value))
    if card.utm:
        lines.append(
            _line(
                t,
                "card.utm",
                ", ".join(f"{k.removeprefix('utm_')}={clip(v, 100)}" for k, v in card.utm.items()),
                limit=LONG_FIELD,
            )
        )
    if card.comment:
        lines.append(_line(t, "card.comment", card.comment, limit=LONG_FIELD))
    lines.extend(_history(card, t, tz))
    lines.extend(_state(card, t, viewer))
    return "\n".join(lines)


def _history(card: LeadCard, t: Translator, tz: tzinfo) -> list[str]:
    if card.history.is_empty:
        return ["", escape(t("card.new_client"))]
    return ["", *history_lines(card.history, t, heading="card.returning", tz=tz)]


def history_lines(history: CardHistory, t: Translator, *, heading: str, tz: tzinfo) -> list[str]:
    """A client's history on a lead, call or task card: recent contacts (each line as on the
    client card, `timeline_line`), then open deals and tasks; fields clipped, then escaped."""
    lines = [escape(t(heading))] if history.contacts else []
    lines += [escape("• " + timeline_line(entry, t, tz)) for entry in history.contacts]
    if history.open_deals:
        lines.append(escape(t("card.open_deals")))
        for deal in history.open_deals:
            amount = f", {t.money(deal.amount)}" if deal.amount else ""
            title, stage = clip(deal.title), clip(deal.stage)
            lines.append(escape(t("card.deal", title=title, stage=stage, amount=amount)))
    if history.open_tasks:
        lines.append(escape(t("call.open_tasks")))
        for task in history.open_tasks:
            call_back = task.kind == "call_back"
            title = t("task.call_back", title=clip(task.title)) if call_back else clip(task.title)
            lines.append(escape("• " + title))
    return lines


def timeline_line(entry: Entry, t: Translator, tz: tzinfo) -> str:
    """One entry of a client's timeline as plain text (the caller escapes or wraps it): the
    one way every card renders history. Free text is clipped to `TIMELINE_TEXT`."""
    when = t.when(entry.at, tz)
    who = clip(entry.who or "—", 60)
    text = clip(entry.text or "", TIMELINE_TEXT)
    match entry.kind:
        case Kind.LEAD:
            status = t(f"status.{entry.state}", default=entry.state or "")
            return t("timeline.lead", when=when, source=clip(entry.text or ""), status=status)
        case Kind.CALL:
            detail = f"{entry.text}:{entry.state}"
            return t("timeline.call", when=when, detail=t(f"contact.{detail}", default=detail))
        case Kind.TASK:
            status = t(f"timeline.task_status.{entry.state}", default=entry.state or "")
            return t("timeline.task", when=when, title=text, status=status, who=who)
        case Kind.DEAL:
            amount = f", {t.money(Decimal(entry.extra))}" if entry.extra else ""
            stage = clip(entry.state or "")
            return t("timeline.deal", when=when, title=text, stage=stage, amount=amount, who=who)
        case Kind.STAGE:
            key = {"won": "timeline.won", "lost": "timeline.lost"}.get(entry.extra or "")
            stage = clip(entry.state or "")
            return t(key or "timeline.stage", when=when, title=text, stage=stage, who=who)
        case Kind.NOTE:
            return t("timeline.note", when=when, text=text, who=who)
        case Kind.MESSAGE if entry.state == "internal":
            return t("timeline.note", when=when, text=text, who=who)
        case Kind.MESSAGE:
            key = "timeline.message_in" if entry.state == "in" else "timeline.message_out"
            return t(key, when=when, text=text or t("timeline.media"), who=who)


def _state(card: LeadCard, t: Translator, viewer: Actor | None) -> list[str]:
    if card.status is LeadStatus.NEW:
        if not card.assignee_name:
            return []
        if viewer is not None and not _may_act(card, viewer):
            return ["", f"<b>{escape(t('leads.reassigned_to', name=clip(card.assignee_name)))}</b>"]
        return ["", _line(t, "card.assignee", card.assignee_name)]
    if card.status is LeadStatus.TARGET:
        name = clip(card.assignee_name or "—")
        return ["", f"<b>{escape(t('card.taken_by', name=name))}</b>"]
    status = t(f"status.{card.status.value}")
    text = t("card.rejected_by", status=status, name=clip(card.closed_by or "—"))
    lines = ["", f"<b>{escape(text)}</b>"]
    if card.close_reason:
        reason = t(f"leads.reason.{card.close_reason}", default=clip(card.close_reason))
        lines.append(escape(t("leads.close_reason", reason=reason)))
    return lines


def _may_act(card: LeadCard, viewer: Actor) -> bool:
    return access.can_act_on_lead(viewer, assignee_id=card.assignee_id, office_id=card.office_id)


def lead_keyboard(card: LeadCard, t: Translator, *, viewer: Actor | None) -> list[list[Button]]:
    """The card's buttons for `viewer`: Take / Non-target / Spam while it is new, Reassign for
    managers, and the shortcuts to the client and (once taken) the deal."""
    if viewer is not None and not _may_act(card, viewer):
        return []
    rows: list[list[Button]] = []
    if card.status is LeadStatus.NEW:
        rows.append([_lead_button(t("button.take"), LeadAction.TAKE, card.lead_id)])
        rows.append(
            [
                _lead_button(t("button.non_target"), LeadAction.NON_TARGET, card.lead_id),
                _lead_button(t("button.spam"), LeadAction.SPAM, card.lead_id),
            ]
        )
    shortcuts = [
        button(
            t("leads.button.client"),
            ClientCallback(action=ClientAction.OPEN, client_id=card.client_id),
        )
    ]
    if card.deal_id is not None:
        deal = DealCallback(action=DealAction.OPEN, deal_id=card.deal_id)
        shortcuts.append(button(t("leads.button.deal"), deal))
    if card.status in (LeadStatus.NEW, LeadStatus.TARGET):
        shortcuts.append(button(t("task.new.button_task"), NewTaskCallback(lead_id=card.lead_id)))
    rows.append(shortcuts)
    open_ = card.status in (LeadStatus.NEW, LeadStatus.TARGET)
    if open_ and viewer is not None and access.can_reassign_lead(viewer, office_id=card.office_id):
        rows.append(
            [button(t("leads.button.reassign"), LeadReassignCallback(lead_id=card.lead_id))]
        )
    if open_:
        rows.append(
            [
                button(
                    t("ticket.button.ticket"),
                    NewTicketCallback(about=TicketAbout.LEAD, record_id=card.lead_id),
                )
            ]
        )
    return rows


def _lead_button(text: str, action: LeadAction, lead_id: int) -> Button:
    return button(text, LeadCallback(action=action, lead_id=lead_id))


def _line(t: Translator, key: str, value: str | None, *, limit: int = FIELD) -> str:
    """One labelled field, clipped before it is escaped (see bot.telegram.limits)."""
    return escape(t(key, value=clip(value or "—", limit)))


def lead_digest(leads: list[LeadLine], t: Translator) -> Rendered:
    """Several new leads waiting for one chat, as one message: a line and a button each; the
    button sends that lead's full card."""
    lines = [f"<b>{escape(t('digest.new_leads', count=len(leads)))}</b>", escape(t("digest.hint"))]
    buttons = []
    for n, lead in enumerate(leads, 1):
        contact = format_phone(lead.phone) if lead.phone else lead.raw_phone or lead.email or "—"
        name = clip(lead.name or t("card.no_name"), 40)
        line = t(
            "digest.line",
            n=n,
            lead_id=lead.lead_id,
            name=name,
            contact=clip(contact, 40),
            source=clip(lead.source, 40),
        )
        lines.append(escape(line))
        buttons.append(
            InlineKeyboardButton(
                text=t("digest.button", lead_id=lead.lead_id, name=clip(name, 20)),
                callback_data=LeadCallback(action=LeadAction.OPEN, lead_id=lead.lead_id).pack(),
            )
        )
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
