"""Delivers replies to WhatsApp clients and holds WhatsApp's rules (PROTOCOLS.md §2.6-2.7).

- free-form messages only within 24 h of the client's last message (checked before sending;
  error 131047 inside the window, a known Meta hiccup, is tried once more);
- 130429 (throughput) and 131056 (too many to one client: at least 6 s apart) wait and go
  again; the row keeps its place in the client's order;
- 131026 (not on WhatsApp, old app), 131053 (the file was refused) and other refusals are
  final: the employee is told why (services.conversations.notices);
- a photo or file an employee sent in Telegram is fetched and uploaded to WhatsApp first.

Failures carry their code as "[code] text", which the notice turns into plain words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import GiveUp, RetryLater
from bot.media import Fetched, MediaSources
from bot.whatsapp.graph import Graph, GraphError
from config.i18n import Translator
from models import Channel
from services import conversations
from services.clock import Clock
from services.conversations import Kind, Media
from services.errors import NotFound
from services.outbox import Claimed

TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
# Codes that are worth waiting for, and how long (seconds).
_WAIT = {130429: 10.0, 131056: 6.0, 80007: 60.0, 4: 60.0, 131048: 60.0}
TOKEN_EXPIRED = 190  # a configuration problem: keep the message until the token is fixed
WINDOW_CLOSED = 131047


@dataclass(frozen=True)
class Ready:
    body: dict[str, Any]
    media: Media | None = None  # to fetch and upload first


class WhatsAppSender:
    channel = Channel.WHATSAPP

    def __init__(self, graph: Graph, media: MediaSources, clock: Clock) -> None:
        self.graph, self.media, self.clock = graph, media, clock

    async def prepare(self, row: Claimed, session: AsyncSession) -> Ready:
        if row.kind == conversations.CLIENT_NOTICE:
            text = str(row.payload.get("text") or Translator(row.locale)(row.payload["key"]))
            return Ready({"to": row.recipient, "type": "text", "text": {"body": text[:TEXT_LIMIT]}})
        if row.kind != conversations.CLIENT_REPLY or row.entity_id is None:
            raise GiveUp(f"no WhatsApp template for {row.kind!r}")
        try:
            view = await conversations.message(session, row.entity_id)
        except NotFound as exc:
            raise GiveUp("the message is gone") from exc
        if view.kind == conversations.TEMPLATE:  # what may be sent outside the window
            return Ready(_template(view))
        _require_window(view, self.clock.now())
        return Ready(_body(view), view.media)

    async def send(self, row: Claimed, prepared: Ready) -> str | None:
        body = dict(prepared.body)
        if prepared.media is not None:
            body[body["type"]]["id"] = await self._upload(prepared.media)
        with classified(row.attempts):
            return await self.graph.send(body)

    async def _upload(self, media: Media) -> str:
        source = self.media.get(media.source)
        if source is None:
            raise GiveUp(f"[131053] no way to fetch a file from {media.source}")
        fetched = await source.fetch(media.ref)
        # What the message says of its file wins over what the file store guessed.
        fetched = Fetched(
            fetched.data, media.mime or fetched.mime, media.filename or fetched.filename
        )
        with classified(1):
            return await self.graph.upload(fetched)


def _require_window(view: conversations.MessageView, now: datetime) -> None:
    rules = conversations.rules_of(view.channel)
    if rules.reply_window is None:
        return
    last = view.last_inbound_at
    if last is None or now - last > rules.reply_window:
        raise GiveUp(f"[{WINDOW_CLOSED}] more than 24 hours since the client last wrote")


def _template(view: conversations.MessageView) -> dict[str, Any]:
    template = {
        "name": view.details.get("template") or view.text,
        "language": {"code": view.details.get("language") or "ru"},
    }
    return {"to": view.chat_id, "type": "template", "template": template}


def _body(view: conversations.MessageView) -> dict[str, Any]:
    body: dict[str, Any] = {"to": view.chat_id}
    media = view.media
    if media is None:
        body |= {"type": "text", "text": {"body": (view.text or "")[:TEXT_LIMIT]}}
    else:
        kind = "image" if view.kind == Kind.IMAGE else "document"
        content: dict[str, Any] = {}
        if view.text:
            content["caption"] = view.text[:CAPTION_LIMIT]
        if kind == "document":
            content["filename"] = media.filename or "file"
        body |= {"type": kind, kind: content}
    if view.quoted_provider_id:
        body["context"] = {"message_id": view.quoted_provider_id}
    return body


@contextmanager
def classified(attempts: int) -> Iterator[None]:
    """Graph errors sorted into retry-later and give-up (see the module docstring)."""
    try:
        yield
    except GraphError as exc:
        text = f"[{exc.code}] {exc.message}" if exc.code is not None else exc.message
        if exc.code is None:
            if exc.status in (401, 403) and not exc.download:  # the token, not the file
                raise RetryLater(text, retry_after=300) from exc
            if exc.status in (0, 408, 429) or exc.status >= 500:
                raise RetryLater(text) from exc
            raise GiveUp(text) from exc
        if exc.code == WINDOW_CLOSED and attempts <= 1:
            raise RetryLater(text, retry_after=3) from exc
        if exc.code in _WAIT:
            raise RetryLater(text, retry_after=_WAIT[exc.code]) from exc
        if exc.code == TOKEN_EXPIRED:
            raise RetryLater(text, retry_after=300) from exc
        if exc.status >= 500:
            raise RetryLater(text) from exc
        raise GiveUp(text) from exc
