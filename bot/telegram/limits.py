"""The Bot API's size limits and the one place every Telegram renderer fits its output to them.

Renderers clip each value with `clip` *before* HTML-escaping it (cutting escaped text could
split an entity such as `&amp;` and Telegram would refuse the whole message), and pass the
finished message through `fit_text` (in TelegramSender, for every template), a final guard
that drops whole lines.
Buttons get their URL through `button_url`, which answers None for anything Telegram would
refuse, so a garbage URL from a PBX costs a button, never the card.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

TEXT_LIMIT = 4096  # characters of a message's text
CAPTION_LIMIT = 1024  # characters of a media caption
URL_LIMIT = 2048

# How much of one value a card shows; the lead itself keeps more (services.leads.inputs.FIELD_CAPS).
FIELD = 200
LONG_FIELD = 1000  # a comment
ELLIPSIS = "…"
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def units(text: str) -> int:
    """Length as Telegram may count it (UTF-16 code units; never less than len())."""
    return len(text.encode("utf-16-le")) // 2


def clip(value: object, limit: int = FIELD) -> str:
    """`value` as text of at most `limit` characters, marked with "…" when cut."""
    text = " ".join(str(value).split()) if limit <= FIELD else str(value)
    if units(text) <= limit:
        return text
    cut = text[: limit - 1]
    while units(cut) > limit - 1:  # astral characters count twice
        cut = cut[:-1]
    return cut + ELLIPSIS


def fit_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """The final guard on a whole HTML message: whole lines are kept while they fit."""
    if units(text) <= limit:
        return text
    kept: list[str] = []
    used = units(ELLIPSIS)
    for line in text.split("\n"):
        size = units(line) + 1
        if used + size > limit:
            break
        kept.append(line)
        used += size
    return "\n".join([*kept, ELLIPSIS])


def button_url(url: str | None) -> str | None:
    """`url` if Telegram will take it as a button's URL (absolute http(s) with a host)."""
    if not url or len(url) > URL_LIMIT or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    if not url.isascii():
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(host):
        return None
    return url
