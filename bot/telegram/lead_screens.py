"""Screens about leads: the pickers a lead card shows in place of its buttons (a reason to
close it, whom to reassign it to) and the lists "my new leads" / the office's untaken leads.

A picker keeps the card's text and replaces only its buttons on the pressed copy; the final
choice changes the lead and every copy is re-rendered through services.notify, so no copy is
left half-way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.formatting import Bold, Text, as_list

from bot.telegram.html import as_html
from bot.telegram.limits import TEXT_LIMIT, clip, fit_text, units
from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import (
    LeadAction,
    LeadCallback,
    LeadCardCallback,
    LeadReasonCallback,
    LeadReassignCallback,
    ListCallback,
    ListView,
)
from services.clients.identities import format_phone
from services.leads.lists import CandidatePage, LeadItem, LeadPage

NAME = 40  # a list line stays one line however long the name the form sent
_PICK_KEY = {LeadAction.NON_TARGET: "leads.pick.non_target", LeadAction.SPAM: "leads.pick.spam"}


def reason_picker(
    card_html: str, lead_id: int, kind: LeadAction, codes: tuple[str, ...], t: Translator
) -> Screen:
    """The card with the reasons to close it as `kind` instead of its buttons, and Cancel."""
    reasons = [
        button(
            t(f"leads.reason.{code}"), LeadReasonCallback(lead_id=lead_id, kind=kind, reason=code)
        )
        for code in codes
    ]
    rows = [reasons[i : i + 2] for i in range(0, len(reasons), 2)]
    rows.append([_cancel(lead_id, t)])
    return Screen(_below(card_html, Bold(t(_PICK_KEY[kind]))), rows)


def reassign_picker(card_html: str, page: CandidatePage, t: Translator) -> Screen:
    """The card with one button per colleague (on shift first, marked) instead of its buttons."""
    lead_id = page.lead_id
    if not page.people:
        return Screen(
            _below(card_html, Bold(t("leads.reassign_nobody", lead_id=lead_id))),
            [[_cancel(lead_id, t)]],
        )
    rows: list[list[Button]] = []
    for person in page.people:
        key = "leads.button.on_shift" if person.on_shift else "leads.button.off_shift"
        data = LeadReassignCallback(lead_id=lead_id, employee_id=person.id)
        rows.append([button(t(key, name=clip(person.name, NAME)), data)])
    rows += _pager(
        page.page,
        page.pages,
        t,
        lambda n: LeadReassignCallback(lead_id=lead_id, page=n),
    )
    rows.append([_cancel(lead_id, t)])
    title = t("leads.reassign_title", lead_id=lead_id, page=page.page + 1, pages=page.pages)
    return Screen(_below(card_html, Bold(title)), rows)


def my_leads(page: LeadPage, t: Translator) -> Screen:
    """ "My new leads": a line and a button per lead, newest first, ‹ › between pages."""
    if not page.total:
        return Screen.of(Text(t("leads.my_empty")))
    lines = [_item_line(item, t) for item in page.items]
    return _list(Bold(t.plural("leads.my_title", page.total)), lines, page, ListView.MY_LEADS, t)


def office_leads(page: LeadPage, t: Translator, *, now: datetime) -> Screen:
    """The office's new leads nobody has taken, oldest first, each with its age."""
    if not page.total:
        return Screen.of(Text(t("leads.office_empty")))
    lines = [
        t(
            "leads.office_item",
            lead_id=item.id,
            age=age(now, item.created_at, t),
            name=clip(item.name or "—", NAME),
            contact=_contact(item),
            assignee=clip(item.assignee or t("leads.unassigned"), NAME),
        )
        for item in page.items
    ]
    return _list(
        Bold(t.plural("leads.office_title", page.total)), lines, page, ListView.OFFICE_LEADS, t
    )


def age(now: datetime, since: datetime, t: Translator) -> str:
    """How long a lead has waited, in the largest whole unit (at least a minute)."""
    seconds = max(int((now - since).total_seconds()), 0)
    if seconds < 3600:
        return t.plural("leads.age.minutes", max(seconds // 60, 1))
    if seconds < 86400:
        return t.plural("leads.age.hours", seconds // 3600)
    return t.plural("leads.age.days", seconds // 86400)


def _list(title: Bold, lines: list[str], page: LeadPage, view: ListView, t: Translator) -> Screen:
    footer = [t("leads.page", page=page.page + 1, pages=page.pages)] if page.pages > 1 else []
    text = as_list(title, "", *lines, *footer)
    opens = [
        button(
            t("leads.item_button", lead_id=item.id, name=clip(item.name or "—", 20)),
            LeadCallback(action=LeadAction.OPEN, lead_id=item.id),
        )
        for item in page.items
    ]
    rows = [opens[i : i + 2] for i in range(0, len(opens), 2)]
    rows += _pager(page.page, page.pages, t, lambda n: ListCallback(view=view, page=n))
    return Screen.of(text, rows)


def _item_line(item: LeadItem, t: Translator) -> str:
    return t(
        "leads.item",
        lead_id=item.id,
        name=clip(item.name or "—", NAME),
        contact=_contact(item),
        source=clip(item.source, NAME),
    )


def _contact(item: LeadItem) -> str:
    contact = item.contact or "—"
    return clip(format_phone(contact) if contact.startswith("+") else contact, NAME)


def _pager(
    page: int, pages: int, t: Translator, data: Callable[[int], CallbackData]
) -> list[list[Button]]:
    row: list[Button] = []
    if page > 0:
        row.append(button(t("leads.button.prev"), data(page - 1)))
    if page + 1 < pages:
        row.append(button(t("leads.button.next"), data(page + 1)))
    return [row] if row else []


def _cancel(lead_id: int, t: Translator) -> Button:
    return button(t("leads.button.cancel"), LeadCardCallback(lead_id=lead_id))


def _below(card_html: str, prompt: Text) -> str:
    """The card's text (ready HTML from bot.telegram.cards) with a prompt under it; a card
    near Telegram's limit loses its last lines, never the prompt."""
    below = as_html(prompt)
    return f"{fit_text(card_html, TEXT_LIMIT - units(below) - 2)}\n\n{below}"
