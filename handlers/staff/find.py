"""Finding a client from Telegram: `/find <text>`, or just the text (a phone in any format, a
name, a company, an e-mail), a shared contact, a forwarded message, or `@bot query` from any
chat. One match opens the card; several are a list of buttons. The service decides what the
employee may see (`services.clients.search`); `/start client_<id>` (the inline results' link)
re-checks access before opening the card."""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.methods import AnswerInlineQuery
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageOriginHiddenUser,
    MessageOriginUser,
)
from aiogram.utils.formatting import Bold, Text, as_line
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.client_screens import client_card
from bot.telegram.html import as_html
from bot.telegram.limits import clip
from bot.telegram.screens import Screen, Ui, button
from config.i18n import Translator
from handlers.callbacks import ClientAction, ClientCallback, CreateClientCallback
from handlers.filters import ForwardedFromPerson, PrivateChat, SharedContact, TypedText
from handlers.router import Router
from services.actors import Actor
from services.clients import search, visibility
from services.clients.identities import format_phone
from services.context import Company

INLINE_RESULTS = 20
DEEP_LINK = "client_"


def make_router() -> Router:
    """Employees' messages: `/find`, and plain text typed outside any dialog (a search). Other
    features' messages are commands or answers inside their dialogs, so this router may come
    first; a feature that takes plain text outside a dialog must come before it."""
    router = Router(name="staff.find")
    router.message.filter(PrivateChat())
    router.message.register(find_command, Command("find"))
    router.message.register(contact_shared, StateFilter(None), SharedContact())
    router.message.register(forwarded, StateFilter(None), ForwardedFromPerson())
    router.message.register(typed, StateFilter(None), TypedText())
    return router


def make_link_router() -> Router:
    """Inline mode and the inline results' deep link: register before handlers.start (whose
    `/start <code>` would take the link for an invite code)."""
    router = Router(name="find.links")
    router.inline_query.register(inline_search)
    router.message.register(
        open_from_link,
        CommandStart(deep_link=True, magic=F.args.regexp(rf"^{DEEP_LINK}\d{{1,18}}$")),
        PrivateChat(),
    )
    return router


async def find_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> None:
    text = (command.args or "").strip()
    if not text:
        await ui.say("find.help")
        return
    await _search(text, session=session, company=company, actor=actor, t=t, ui=ui)


async def typed(
    message: Message, session: AsyncSession, company: Company, actor: Actor, t: Translator, ui: Ui
) -> None:
    await _search(message.text or "", session=session, company=company, actor=actor, t=t, ui=ui)


async def _search(
    text: str, *, session: AsyncSession, company: Company, actor: Actor, t: Translator, ui: Ui
) -> None:
    found = await search.search(session, text, by=actor, limit=10, region=company.region)
    if not found:
        await ui.say("find.nothing", text=clip(text, 60))
    else:
        await _show(found, session=session, company=company, actor=actor, t=t, ui=ui)


async def _show(
    found: list[search.Found],
    *,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> None:
    """One client: the card itself; several: a line and a button each."""
    if len(found) == 1:
        card = await client_card(
            session, found[0].client_id, by=actor, t=t, default_tz=company.timezone
        )
        await ui.send(card)
        return
    lines = [as_line(Bold(t.plural("find.found", len(found))))]
    for number, client in enumerate(found, 1):
        lines.append(as_line(f"{number}. ", *_describe(client, t)))
    keyboard = [
        [
            button(
                f"{n}. {_label(c)}", ClientCallback(action=ClientAction.OPEN, client_id=c.client_id)
            )
        ]
        for n, c in enumerate(found, 1)
    ]
    await ui.send(Screen.of(Text(*lines), keyboard))


def _describe(client: search.Found, t: Translator) -> list[Text | str]:
    """Name, company, phone (and the contact person it was found by) on one line."""
    parts: list[Text | str] = [Bold(clip(client.name or "—", 80))]
    if client.company:
        parts.append(f" · {clip(client.company, 80)}")
    if client.phone:
        parts.append(f" · {format_phone(client.phone)}")
    if client.contact:
        parts.append(f" · {t('find.contact_line', name=clip(client.contact, 60))}")
    return parts


def _label(client: search.Found) -> str:
    name = client.name or (format_phone(client.phone) if client.phone else f"#{client.client_id}")
    return clip(name, 40)


async def contact_shared(
    message: Message, session: AsyncSession, company: Company, actor: Actor, t: Translator, ui: Ui
) -> None:
    assert message.contact is not None
    contact = message.contact
    match = await search.for_contact(
        session,
        phone=contact.phone_number,
        telegram_id=contact.user_id,
        by=actor,
        region=company.region,
    )
    if match.found:
        await _show(match.found, session=session, company=company, actor=actor, t=t, ui=ui)
    elif match.taken:
        await ui.say("find.contact_taken")
    elif match.phone is None:
        await ui.say("find.contact_new_unknown")
    else:
        create = CreateClientCallback(phone=match.phone.lstrip("+"))
        text = Text(t("find.contact_new", phone=format_phone(match.phone)))
        await ui.send(Screen.of(text, [[button(t("find.create"), create)]]))


async def forwarded(
    message: Message, session: AsyncSession, company: Company, actor: Actor, t: Translator, ui: Ui
) -> None:
    origin = message.forward_origin
    if not isinstance(origin, MessageOriginUser):
        assert isinstance(origin, MessageOriginHiddenUser)
        await ui.say("find.forward_hidden")
        return
    match = await search.for_contact(
        session, phone=None, telegram_id=origin.sender_user.id, by=actor, region=company.region
    )
    if match.found:
        await _show(match.found, session=session, company=company, actor=actor, t=t, ui=ui)
    else:
        await ui.say("find.contact_taken" if match.taken else "find.forward_new")


async def inline_search(
    query: InlineQuery,
    bot: Bot,
    session: AsyncSession,
    company: Company,
    actor: Actor | None,
    t: Translator,
) -> AnswerInlineQuery:
    """Personal results, never cached: another user typing the same query must not see them."""
    results: list[InlineQueryResultArticle] = []
    if actor is not None and query.query.strip():
        found = await search.search(
            session, query.query, by=actor, limit=INLINE_RESULTS, region=company.region
        )
        me = await bot.me()
        results = [_article(client, me.username or "", t) for client in found]
    return query.answer(results, cache_time=0, is_personal=True)


def _article(client: search.Found, username: str, t: Translator) -> InlineQueryResultArticle:
    url = f"https://t.me/{username}?start={DEEP_LINK}{client.client_id}"
    description = " · ".join(
        p for p in (client.company, format_phone(client.phone) if client.phone else None) if p
    )
    # What lands in the other chat: the name and company and a link that opens the card for
    # whoever may see it (the phone stays in the CRM).
    shared = Text(
        Bold(clip(client.name or "—", 80)),
        *([" · ", clip(client.company, 80)] if client.company else []),
    )
    return InlineQueryResultArticle(
        id=str(client.client_id),
        title=clip(client.name or _label(client), 80),
        description=clip(description, 120) or None,
        input_message_content=InputTextMessageContent(
            message_text=as_html(shared), parse_mode="HTML"
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=t("find.open"), url=url)]]
        ),
    )


async def open_from_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    company: Company,
    actor: Actor | None,
    t: Translator,
    ui: Ui,
) -> None:
    """`/start client_<id>`: the card, for an active employee who may see the client."""
    client_id = int((command.args or "").removeprefix(DEEP_LINK))
    if actor is None:
        await ui.say("find.not_employee")
    elif not await visibility.can_see(session, client_id, actor):
        await ui.say("find.no_access")
    else:
        await ui.send(
            await client_card(session, client_id, by=actor, t=t, default_tz=company.timezone)
        )
