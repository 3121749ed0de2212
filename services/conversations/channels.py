"""Client channels: what the core knows about each messenger clients write from.

A channel is a plug-in: its adapter (a webhook receiver or bot handlers that turn the
provider's payloads into `IncomingMessage`s, and a sender that delivers outbox rows) lives
outside the core and registers its `ChannelRules` at start-up (the composition root, app.py).
The core asks only these rules; adding a messenger (MAX, VK) adds an adapter module and its
settings, and changes nothing here (tests/services/test_conversations.py plugs one in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from models import Channel


@dataclass(frozen=True)
class ChannelRules:
    name: str  # the outbox channel and the conversations' `channel` ("whatsapp", "max")
    # The identity a chat id is on record as (a WhatsApp id is a phone number: also a PHONE).
    chat_id_is_phone: bool = False
    # Free-form replies only this long after the client's last message (WhatsApp: 24 h);
    # outside it only templates (`templates`). None: any time.
    reply_window: timedelta | None = None
    templates: tuple[str, ...] = ()
    # The client is asked once to share their phone (a Telegram id says nothing about it).
    asks_for_phone: bool = False


_REGISTRY: dict[str, ChannelRules] = {}


def register(rules: ChannelRules) -> None:
    _REGISTRY[rules.name] = rules


def rules_of(channel: str) -> ChannelRules:
    """The rules of a channel (a channel nobody registered: no window, no statuses)."""
    return _REGISTRY.get(str(channel)) or ChannelRules(str(channel))


WHATSAPP = ChannelRules(Channel.WHATSAPP, chat_id_is_phone=True, reply_window=timedelta(hours=24))
TELEGRAM = ChannelRules(Channel.TELEGRAM, asks_for_phone=True)
register(WHATSAPP)
register(TELEGRAM)
