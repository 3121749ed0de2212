"""What a client's message is, whatever the channel that brought it (adapters build these)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models import MessageStatus

TEXT_CAP = 10_000  # longer texts are cut (WhatsApp allows 4,096; Telegram 4,096)
NAME_CAP = 300


class Kind(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    DOCUMENT = "document"
    AUDIO = "audio"
    VOICE = "voice"
    VIDEO = "video"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    BUTTON = "button"  # a tapped button of ours (interactive reply, template quick reply)
    REACTION = "reaction"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Media:
    """A file on a provider: `source` names who can fetch it ("whatsapp": a Graph media id,
    "telegram": a file_id of our bot), `ref` is its id there."""

    source: str
    ref: str
    mime: str | None = None
    filename: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Media | None:
        if not data or not data.get("ref"):
            return None
        fields = ("source", "ref", "mime", "filename")
        return cls(**{k: data.get(k) for k in fields})  # type: ignore[arg-type]


@dataclass(frozen=True)
class IncomingMessage:
    channel: str
    chat_id: str  # the conversation's address there (a WhatsApp id, a Telegram chat id)
    message_id: str  # the provider's id: a redelivery of it changes nothing
    kind: str = Kind.TEXT
    text: str | None = None  # the text, a caption, or what a location or contact says
    media: Media | None = None
    name: str | None = None  # the client's profile name
    phone: str | None = None  # a phone the channel vouches for (a shared contact)
    quoted_id: str | None = None  # the provider's id of the message it quotes
    at: datetime | None = None  # when the client sent it (provider's time)
    details: dict[str, Any] = field(default_factory=dict)  # coordinates, emoji, ...

    def __post_init__(self) -> None:
        if self.text is not None and len(self.text) > TEXT_CAP:
            object.__setattr__(self, "text", self.text[:TEXT_CAP])
        if self.name is not None:
            object.__setattr__(self, "name", self.name.strip()[:NAME_CAP] or None)


@dataclass(frozen=True)
class StatusUpdate:
    """The provider says what became of a message we sent."""

    channel: str
    message_id: str  # the provider's id our send got back
    status: MessageStatus
    at: datetime
    error_code: int | None = None
    error: str | None = None
