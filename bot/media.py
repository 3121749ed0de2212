"""Files that cross channels: a client's WhatsApp photo shown in staff Telegram, an employee's
Telegram document sent to a WhatsApp client. Each channel that holds files offers a
`MediaSource` (by the name stored in `Media.source`); a sender fetches the bytes when it sends,
so nothing is downloaded for a message nobody is shown, and a provider's short-lived download
link is always asked for afresh (services.conversations.inputs.Media)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MAX_BYTES = 50 * 1024 * 1024  # Telegram bots upload at most 50 MB


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime: str | None
    filename: str | None = None


class MediaSource(Protocol):
    async def fetch(self, ref: str) -> Fetched:
        """The file's bytes; raises `bot.delivery.RetryLater` or `GiveUp`."""
        ...


MediaSources = dict[str, MediaSource]
