"""aiogram's formatting nodes (`Text`, `Bold`, `as_list` …) as Telegram HTML, rendered
directly: aiogram's own `as_html()` renders the tree to text and entities with UTF-16 offsets,
then parses those back into tags, which was a tenth of a bot update's CPU (bench/bot.py).
Markup stays escaped by construction; a node this module does not know is rendered by
aiogram (tests/handlers/test_html.py checks both give the same HTML)."""

from __future__ import annotations

from html import escape

from aiogram.enums import MessageEntityType
from aiogram.utils.formatting import Text

_TAGS = {
    MessageEntityType.BOLD: "b",
    MessageEntityType.ITALIC: "i",
    MessageEntityType.UNDERLINE: "u",
    MessageEntityType.STRIKETHROUGH: "s",
    MessageEntityType.CODE: "code",
    MessageEntityType.SPOILER: "tg-spoiler",
    MessageEntityType.BLOCKQUOTE: "blockquote",
}


class _Unknown(Exception):
    """A node type rendered by aiogram instead."""


def as_html(node: Text) -> str:
    """The same HTML as `node.as_html()`."""
    try:
        return "".join(_parts(node, []))
    except _Unknown:
        return node.as_html()


def _parts(node: Text, out: list[str]) -> list[str]:
    kind = node.type
    if kind is None:
        opening = closing = ""
    elif kind in _TAGS and not node._params:
        tag = _TAGS[kind]
        opening, closing = f"<{tag}>", f"</{tag}>"
    elif kind == MessageEntityType.TEXT_LINK and set(node._params) == {"url"}:
        opening, closing = f'<a href="{node._params["url"]}">', "</a>"
    else:
        raise _Unknown
    if opening:
        out.append(opening)
    for child in node._body:
        if isinstance(child, Text):
            _parts(child, out)
        else:
            out.append(escape(str(child), quote=False))
    if closing:
        out.append(closing)
    return out
