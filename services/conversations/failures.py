"""Why a reply did not reach the client, in words an employee can act on.

The channel senders record failures as "[code] provider text" (bot.whatsapp.sender; a
Telegram refusal as its error class). Each known reason has a locale text saying what
happened and what to do (`conversation.failed.<reason>`), and whether Retry can help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"^\[(\d+)\]")


@dataclass(frozen=True)
class Failure:
    reason: str  # window, not_on_whatsapp, media, blocked, rate, other
    retry: bool  # sending the same message again may work
    templates: bool = False  # a template could reach the client instead


_BY_CODE = {
    131047: Failure("window", retry=False, templates=True),
    131026: Failure("not_on_whatsapp", retry=True),
    131053: Failure("media", retry=False),
    131052: Failure("media", retry=False),
    131051: Failure("media", retry=False),
    130429: Failure("rate", retry=True),
    131056: Failure("rate", retry=True),
    131049: Failure("withheld", retry=True),
    131031: Failure("account", retry=False),
    368: Failure("account", retry=False),
}
OTHER = Failure("other", retry=True)


def explain(error: str | None) -> Failure:
    text = error or ""
    found = _CODE.match(text)
    if found:
        return _BY_CODE.get(int(found.group(1)), OTHER)
    if "Forbidden" in text or "blocked" in text or "deactivated" in text:
        return Failure("blocked", retry=True)
    if "chat not found" in text:
        return Failure("blocked", retry=False)
    return OTHER
