"""The client card and the screens reached from it (leads, deals, the edit menu), built with
aiogram's formatting utilities (markup escaped by construction) and typed buttons.

The card's timeline pages with ‹ › (the same message edited in place); each line is rendered by
`bot.telegram.cards.timeline_line`, the one way every card shows a client's history."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.utils.formatting import Bold, Italic, Text, as_list
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.cards import timeline_line
from bot.telegram.limits import clip
from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    ClientEditCallback,
    ClientField,
    DealAction,
    DealCallback,
    LeadAction,
    LeadCallback,
    MergeAction,
    MergeCallback,
    NewDealCallback,
    NewTaskCallback,
    NewTicketCallback,
    TicketAbout,
)
from models import Channel
from services import actors
from services.actors import Actor
from services.clients import profile
from services.clients.identities import format_phone
from services.clients.profile import DealItem, LeadItem, Profile


async def client_card(
    session: AsyncSession,
    client_id: int,
    *,
    by: Actor,
    t: Translator,
    default_tz: ZoneInfo,
    page: int = 0,
) -> Screen:
    """The card of a client `by` may see (raises NotFound / AccessDenied otherwise), with
    timeline page `page` (0 = newest), times in `by`'s zone (`default_tz`: the company's)."""
    card = await profile.load(session, client_id, by=by, page=page)
    return card_screen(card, t, await actors.zone_of(session, by, default_tz))


def card_screen(card: Profile, t: Translator, tz: ZoneInfo) -> Screen:
    lines: list[Text | str] = [
        Text(Bold("👤 ", clip(card.name or t("client.no_name"))), f"  #{card.client_id}")
    ]
    if card.company:
        lines.append(Text("🏢 ", clip(card.company)))
    for contact in card.contacts:
        phones = ", ".join(format_phone(p) for p in contact.phones)
        name = clip(contact.name or "—", 100)
        lines.append(t("client.contact_person", name=name, phones=f" {phones}" if phones else ""))
    for address in card.addresses:
        lines.append(_address(address.channel, address.address, t))
    lines.append(t("client.owner", name=clip(card.owner or t("client.nobody"), 100)))
    if card.tags:
        lines.append(t("client.tags", tags=clip(", ".join(card.tags))))
    if card.open_deals:
        lines.append(t.plural("client.open_deals", card.open_deals))
    lines.append("")
    page = card.timeline
    heading = (
        t("client.history") if page.number == 0 else t("client.history_page", n=page.number + 1)
    )
    lines.append(Bold(heading))
    if page.entries:
        lines.extend("• " + timeline_line(entry, t, tz) for entry in page.entries)
    else:
        lines.append(Italic(t("client.history_empty")))
    return Screen.of(as_list(*lines), _keyboard(card, t))


def _address(channel: Channel, address: str, t: Translator) -> str:
    shown = format_phone(address) if channel in (Channel.PHONE, Channel.WHATSAPP) else address
    return t(f"client.channel.{channel}", value=clip(shown, 100), default=clip(shown, 100))


def _keyboard(card: Profile, t: Translator) -> list[list[Button]]:
    cid, page = card.client_id, card.timeline
    pager = []
    if page.has_previous:
        pager.append(
            button(
                "‹", ClientCallback(action=ClientAction.OPEN, client_id=cid, page=page.number - 1)
            )
        )
    if page.has_next:
        pager.append(
            button(
                "›", ClientCallback(action=ClientAction.OPEN, client_id=cid, page=page.number + 1)
            )
        )
    rows = [pager] if pager else []
    rows.append(
        [
            button(t("client.button.new_deal"), NewDealCallback(client_id=cid)),
            button(
                t("client.button.note"), ClientCallback(action=ClientAction.NOTE, client_id=cid)
            ),
            button(t("task.new.button_task"), NewTaskCallback(client_id=cid)),
        ]
    )
    rows.append(
        [
            button(
                t("client.button.edit"), ClientCallback(action=ClientAction.EDIT, client_id=cid)
            ),
            button(
                t("client.button.leads"), ClientCallback(action=ClientAction.LEADS, client_id=cid)
            ),
            button(
                t("client.button.deals"), ClientCallback(action=ClientAction.DEALS, client_id=cid)
            ),
        ]
    )
    last = [
        button(
            t("ticket.button.ticket"), NewTicketCallback(about=TicketAbout.CLIENT, record_id=cid)
        )
    ]
    if card.can_merge:
        last.append(
            button(t("client.button.merge"), MergeCallback(action=MergeAction.START, client_id=cid))
        )
    rows.append(last)
    return rows


def back(client_id: int, t: Translator) -> list[Button]:
    return [
        button(
            t("client.button.back"), ClientCallback(action=ClientAction.OPEN, client_id=client_id)
        )
    ]


def leads_screen(client_id: int, items: list[LeadItem], t: Translator, tz: ZoneInfo) -> Screen:
    """The client's leads; each button opens the lead's card."""
    lines: list[Text | str] = [
        Bold(t.plural("client.leads_title", len(items), client_id=client_id))
    ]
    rows: list[list[Button]] = []
    for item in items:
        status = t(f"status.{item.status.value}")
        source = clip(item.source, 60)
        lines.append(
            t(
                "client.lead_line",
                lead_id=item.lead_id,
                when=t.when(item.created_at, tz),
                source=source,
                status=status,
            )
        )
        rows.append(
            [
                button(
                    t("client.lead_button", lead_id=item.lead_id, source=clip(source, 30)),
                    LeadCallback(action=LeadAction.OPEN, lead_id=item.lead_id),
                )
            ]
        )
    rows.append(back(client_id, t))
    return Screen.of(as_list(*lines), rows)


def deals_screen(client_id: int, items: list[DealItem], t: Translator) -> Screen:
    """The client's deals; each button opens the deal's card."""
    lines: list[Text | str] = [
        Bold(t.plural("client.deals_title", len(items), client_id=client_id))
    ]
    rows: list[list[Button]] = []
    for item in items:
        amount = f", {t.money(item.amount)}" if item.amount is not None else ""
        text = t(
            "client.deal_line",
            title=clip(item.title, 60),
            stage=clip(item.stage, 40),
            amount=amount,
        )
        lines.append(text)
        rows.append(
            [
                button(
                    clip(text.removeprefix("• "), 60),
                    DealCallback(action=DealAction.OPEN, deal_id=item.deal_id),
                )
            ]
        )
    rows.append(back(client_id, t))
    return Screen.of(as_list(*lines), rows)


def edit_screen(card: Profile, t: Translator) -> Screen:
    """What can be changed: name, company, phones and e-mails (add or remove), contacts."""
    cid = card.client_id

    def pick(field: ClientField, identity_id: int = 0) -> ClientEditCallback:
        return ClientEditCallback(field=field, client_id=cid, identity_id=identity_id)

    rows: list[list[Button]] = [
        [
            button(t("client.edit.name"), pick(ClientField.NAME)),
            button(t("client.edit.company"), pick(ClientField.COMPANY)),
        ],
        [
            button(t("client.edit.phone"), pick(ClientField.PHONE)),
            button(t("client.edit.email"), pick(ClientField.EMAIL)),
        ],
        [button(t("client.edit.contact"), pick(ClientField.CONTACT))],
    ]
    for address in card.addresses:
        if address.channel in (Channel.PHONE, Channel.EMAIL):
            shown = (
                format_phone(address.address)
                if address.channel is Channel.PHONE
                else address.address
            )
            label = t("client.edit.remove", value=clip(shown, 40))
            rows.append([button(label, pick(ClientField.REMOVE, address.identity_id))])
    rows.append(back(cid, t))
    title = Text(Bold(t("client.edit.title", name=clip(card.name or "—", 100))))
    return Screen.of(as_list(title, t("client.edit.hint")), rows)


def open_button(client_id: int, t: Translator) -> list[list[Button]]:
    """A button that opens a client's card (e.g. the one a typed phone already belongs to)."""
    return [
        [
            button(
                t("client.button.open", client_id=client_id),
                ClientCallback(action=ClientAction.OPEN, client_id=client_id),
            )
        ]
    ]
