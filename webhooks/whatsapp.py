"""`GET`/`POST /webhooks/whatsapp`: the WhatsApp Cloud API (PROTOCOLS.md §2.1-2.4).

GET: Meta's verification (`hub.verify_token` must match; the challenge is echoed).
POST: verify `X-Hub-Signature-256` over the raw body → parse every entry, change, message and
status (one notification mixes clients, messages and statuses; unknown fields and types are
ignored or kept as "unsupported", a malformed item is skipped, not the batch) → the
conversations service (one unit of work for concurrent notifications) → 200.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from models import Channel, MessageStatus
from services.conversations import IncomingMessage, Kind, Media, StatusUpdate
from web_app import container_of
from webhooks.common import json_error, parse_json, secret_matches

log = logging.getLogger(__name__)
CHANNEL = Channel.WHATSAPP
_MEDIA = {"image", "video", "audio", "sticker", "document"}
_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "played": MessageStatus.READ,  # a voice message listened to
    "failed": MessageStatus.FAILED,
}
ID_CAP, SHORT_CAP = 200, 300


@dataclass
class Notification:
    messages: list[IncomingMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)


async def verify(request: web.Request) -> web.StreamResponse:
    expected = container_of(request).settings.whatsapp_verify_token
    query = request.query
    if (
        expected
        and query.get("hub.mode") == "subscribe"
        and secret_matches(query.get("hub.verify_token"), expected)
    ):
        return web.Response(text=query.get("hub.challenge", ""))
    return json_error(403, "bad_verify_token", "wrong hub.verify_token (or WhatsApp is off)")


async def receive(request: web.Request) -> web.StreamResponse:
    container = container_of(request)
    secret = container.settings.whatsapp_app_secret
    if not secret:
        return json_error(403, "whatsapp_off", "WhatsApp is off: set WHATSAPP_APP_SECRET")
    raw = await request.read()
    if not signature_ok(raw, request.headers.get("X-Hub-Signature-256"), secret):
        return json_error(401, "bad_signature", "missing or wrong X-Hub-Signature-256")
    notification = parse(parse_json(raw))
    if notification.messages or notification.statuses:
        await container.conversations.submit(notification)
    return web.json_response(
        {
            "status": "ok",
            "messages": len(notification.messages),
            "statuses": len(notification.statuses),
        }
    )


def signature_ok(raw: bytes, header: str | None, secret: str) -> bool:
    """Meta signs the exact bytes it sends (HMAC-SHA256 with the app secret)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").lower().encode(), expected.encode())


def parse(data: Any) -> Notification:
    """Everything usable in a notification; anything else is left out."""
    found = Notification()
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        return found
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            names = _names(value)
            for raw in _dicts(value.get("messages")):
                message = _message(raw, names)
                if message is not None:
                    found.messages.append(message)
            for raw in _dicts(value.get("statuses")):
                status = _status(raw)
                if status is not None:
                    found.statuses.append(status)
    return found


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any, cap: int = SHORT_CAP) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:cap] or None


def _names(value: dict[str, Any]) -> dict[str, str]:
    """Profile names by WhatsApp id."""
    names = {}
    for contact in _dicts(value.get("contacts")):
        profile = contact.get("profile")
        name = _text(profile.get("name")) if isinstance(profile, dict) else None
        wa_id = _text(contact.get("wa_id"), 32)
        if wa_id and name:
            names[wa_id.lstrip("+")] = name
    return names


def _time(value: Any) -> datetime | None:
    try:
        seconds = int(str(value))
        return datetime.fromtimestamp(seconds, UTC) if 0 < seconds < 2**33 else None
    except (TypeError, ValueError, OverflowError):
        return None


def _message(raw: dict[str, Any], names: dict[str, str]) -> IncomingMessage | None:
    sender, message_id = _text(raw.get("from"), 32), _text(raw.get("id"), ID_CAP)
    if not sender or not message_id:
        return None
    sender = sender.lstrip("+")
    if not sender.isdigit():
        return None
    kind, text, media, details, quoted = _content(raw)
    context = raw.get("context")
    if isinstance(context, dict) and quoted is None:
        quoted = _text(context.get("id"), ID_CAP)
    return IncomingMessage(
        channel=CHANNEL,
        chat_id=sender,
        message_id=message_id,
        kind=kind,
        text=text,
        media=media,
        name=names.get(sender),
        quoted_id=quoted,
        at=_time(raw.get("timestamp")),
        details=details,
    )


Content = tuple[str, str | None, Media | None, dict[str, Any], str | None]


def _content(raw: dict[str, Any]) -> Content:
    """(kind, text, media, details, quoted id) of one message, whatever its type."""
    kind = _text(raw.get("type"), 32) or "unsupported"
    body = raw.get(kind)
    body = body if isinstance(body, dict) else {}
    if kind == "text":
        return Kind.TEXT, _text(body.get("body"), 10_000), None, {}, None
    if kind in _MEDIA:
        return _media(kind, body)
    if kind == "location":
        return _location(body)
    if kind == "contacts":
        return _contacts(raw.get("contacts"))
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply")
        title = _text(reply.get("title")) if isinstance(reply, dict) else None
        return Kind.BUTTON, title, None, {}, None
    if kind == "button":
        return Kind.BUTTON, _text(body.get("text")) or _text(body.get("payload")), None, {}, None
    if kind == "reaction":
        emoji = _text(body.get("emoji"), 16)
        return Kind.REACTION, emoji, None, {"removed": not emoji}, _text(body.get("message_id"))
    return Kind.UNSUPPORTED, None, None, {"type": kind}, None


def _media(kind: str, body: dict[str, Any]) -> Content:
    media_id = _text(body.get("id"), ID_CAP)
    if kind == "audio" and body.get("voice") is True:
        kind = Kind.VOICE
    media = (
        Media(
            source=CHANNEL,
            ref=media_id,
            mime=_text(body.get("mime_type"), 100),
            filename=_text(body.get("filename"), 255),
        )
        if media_id
        else None
    )
    return kind, _text(body.get("caption"), 4096), media, {}, None


def _location(body: dict[str, Any]) -> Content:
    details = {}
    for key in ("latitude", "longitude"):
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= 180:
            details[key] = float(value)
    words = [w for w in (_text(body.get("name")), _text(body.get("address"))) if w]
    return Kind.LOCATION, ", ".join(words) or None, None, details, None


def _contacts(value: Any) -> Content:
    lines = []
    for contact in _dicts(value)[:10]:
        name = contact.get("name")
        formatted = _text(name.get("formatted_name")) if isinstance(name, dict) else None
        phones = [_text(p.get("phone"), 40) for p in _dicts(contact.get("phones"))[:5]]
        lines.append(" ".join(w for w in [formatted, *phones] if w))
    return Kind.CONTACTS, "\n".join(line for line in lines if line) or None, None, {}, None


def _status(raw: dict[str, Any]) -> StatusUpdate | None:
    message_id = _text(raw.get("id"), ID_CAP)
    status = _STATUSES.get(str(raw.get("status")))
    at = _time(raw.get("timestamp"))
    if not message_id or status is None or at is None:
        return None
    code, error = None, None
    errors = _dicts(raw.get("errors"))
    if errors:
        raw_code = errors[0].get("code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        error = _text(errors[0].get("title")) or _text(errors[0].get("message"))
    return StatusUpdate(CHANNEL, message_id, status, at, code, error)
