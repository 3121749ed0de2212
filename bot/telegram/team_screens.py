"""What a client's topic in the team inbox shows: its name, the pinned card, and the client's
messages as parts (several short client texts that waited together are one message)."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import tzinfo

from aiogram.types import InlineKeyboardMarkup

from bot.telegram import screens
from bot.telegram.conversation_screens import body, channel_name
from bot.telegram.limits import CAPTION_LIMIT, LONG_FIELD, TEXT_LIMIT, clip, fit_text, units
from bot.telegram.rendering import Upload
from bot.telegram.screens import button
from config.i18n import Translator
from handlers.callbacks import TeamAction, TeamCallback
from models import Direction
from services.conversations import Kind, Media
from services.team import CardFacts, Pending

NAME_LIMIT = 128  # characters of a forum topic's name
MERGE_UP_TO = 500  # a client text this long or shorter may share a message with others
MERGED_ROOM = 3500  # ... while the message stays this short (a head per channel besides)
_UPLOADS = {Kind.IMAGE: "photo", Kind.VIDEO: "video", Kind.AUDIO: "audio", Kind.VOICE: "voice"}


def topic_name(card: CardFacts, t: Translator) -> str:
    """ "Name · phone" (what a manager scans the topic list by), within Telegram's 128."""
    parts = [p for p in (card.name, card.phone) if p] or [t("conversation.unknown_client")]
    return clip(" · ".join(parts), NAME_LIMIT)


@dataclass(frozen=True)
class Card:
    text: str
    markup: InlineKeyboardMarkup | None
    digest: str  # changes whenever what Telegram shows would change (name included)


def card(facts: CardFacts, name: str, topic_id: int, t: Translator, tz: tzinfo) -> Card:
    esc = html.escape
    head = f"👤 <b>{esc(clip(facts.name or t('conversation.unknown_client')))}</b>"
    lines = [head + (f" · {esc(facts.phone)}" if facts.phone else "")]
    if facts.channels:
        names = ", ".join(channel_name(c, t) for c in facts.channels)
        lines.append(esc(t("team.card.channels", channels=names)))
    lines.append(
        esc(t("team.card.owner", name=clip(facts.owner)))
        if facts.owner
        else esc(t("team.card.nobody"))
    )
    if facts.lead_status is not None and facts.lead_at is not None:
        when = facts.lead_at.astimezone(tz).strftime("%d.%m %H:%M")
        status = t(f"team.status.{facts.lead_status.value}")
        lines.append(
            esc(t("team.card.lead", when=when, status=status, source=clip(facts.lead_source or "")))
        )
        if facts.lead_comment:
            lines.append(f"<i>{esc(clip(facts.lead_comment, 300))}</i>")
    if facts.open_deals:
        if facts.open_sum is not None:
            money = t.money(facts.open_sum, facts.currency or "RUB")
            lines.append(esc(t("team.card.deals_open", count=facts.open_deals, sum=money)))
        else:
            lines.append(esc(t("team.card.deals_open_no_sum", count=facts.open_deals)))
        if facts.deal_title:
            stage = facts.deal_stage or ""
            lines.append(esc(t("team.card.deal", title=clip(facts.deal_title), stage=stage)))
    if facts.won_deals:
        lines.append(esc(t("team.card.deals_won", count=facts.won_deals)))
    lines += ["", f"<i>{esc(t('team.card.hint'))}</i>"]
    text = fit_text("\n".join(lines), TEXT_LIMIT)
    buttons = []
    if facts.owner is None:
        take = TeamCallback(action=TeamAction.TAKE, topic_id=topic_id)
        buttons.append(button(t("team.card.take"), take))
    note = TeamCallback(action=TeamAction.NOTE, topic_id=topic_id)
    buttons.append(button(t("team.card.note"), note))
    digest = hashlib.sha256(json.dumps([text, buttons, name]).encode()).hexdigest()[:32]
    return Card(text, screens.markup_of({"keyboard": [buttons]}), digest)


@dataclass(frozen=True)
class Part:
    """The next message of the topic: one or more of the client's messages."""

    text: str
    message_ids: tuple[int, ...]
    upload: Upload | None = None
    fallback: str | None = None  # said instead when the file cannot be fetched
    quoted_id: int | None = None  # the message it answers (a Telegram reply, if shown here)


def next_part(pending: list[Pending], client_name: str | None, t: Translator) -> Part | None:
    """The first pending message, with the short client texts right after it when it is one."""
    if not pending:
        return None
    first = pending[0]
    if _mergeable(first):
        taken = [first]
        room = MERGED_ROOM - units(first.text or "")
        for p in pending[1:]:
            if not _mergeable(p) or units(p.text or "") > room:
                break
            taken.append(p)
            room -= units(p.text or "") + 40
        return _client_texts(taken, client_name, t)
    return _single(first, client_name, t)


def _mergeable(p: Pending) -> bool:
    return (
        p.direction is Direction.IN
        and p.kind == Kind.TEXT
        and units(p.text or "") <= MERGE_UP_TO
        and p.quoted_id is None
    )


def _client_texts(taken: list[Pending], client_name: str | None, t: Translator) -> Part:
    lines: list[str] = []
    channel = None
    for p in taken:
        if p.channel != channel:
            channel = p.channel
            lines.append(f"<b>{html.escape(_client_head(p, client_name, t))}</b>")
        lines.append(html.escape(p.text or ""))
    return Part(fit_text("\n".join(lines), TEXT_LIMIT), tuple(p.id for p in taken))


def _client_head(p: Pending, client_name: str | None, t: Translator) -> str:
    name = client_name or t("conversation.unknown_client")
    return t("team.part.client", name=name, channel=channel_name(p.channel, t))


def _single(p: Pending, client_name: str | None, t: Translator) -> Part:
    who = p.author or t("team.part.someone")
    if p.direction is Direction.IN:
        head = _client_head(p, client_name, t)
    elif p.direction is Direction.INTERNAL:
        head = t("team.part.note", who=who)
    elif p.kind == "template":
        head = t("team.part.template", who=who, name=p.text or "")
    else:
        head = t("team.part.reply", who=who)
    media = Media.of(p.details) if p.details else None
    view_lines = body(_Said(p.kind, p.text, p.details, media), t) if p.kind != "template" else []
    upload = None
    if media is not None:
        method = "video_note" if p.details.get("round") else _UPLOADS.get(p.kind, "document")
        upload = Upload(method, media)
    text = "\n".join(
        [f"<b>{html.escape(head)}</b>", *(html.escape(clip(x, LONG_FIELD * 4)) for x in view_lines)]
    )
    fallback = None
    if upload is not None:
        fallback = fit_text(f"{text}\n{html.escape(t('conversation.kind.media_lost'))}", TEXT_LIMIT)
    limit = CAPTION_LIMIT if upload else TEXT_LIMIT
    return Part(fit_text(text, limit), (p.id,), upload, fallback, p.quoted_id)


@dataclass(frozen=True)
class _Said:
    """The fields of a message `conversation_screens.body` reads."""

    kind: str
    text: str | None
    details: dict[str, object]
    media: Media | None
