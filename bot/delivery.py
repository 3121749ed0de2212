"""The contract between the outbox pump and a channel sender."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel
from services.outbox import Claimed


class RetryLater(Exception):
    """A temporary failure: try again after `retry_after` seconds (or the usual backoff)."""

    def __init__(self, error: str, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.retry_after = retry_after


class GiveUp(Exception):
    """A permanent failure (blocked by the user, bad request): the row is dead."""


@dataclass(frozen=True)
class Sent:
    """What a send returns when it did more than deliver one message: `facts` go to the
    pump's `on_settled`, in the transaction that records the result (a forum topic the send
    had to open, the messages a mirrored part carried)."""

    provider_id: str | None
    facts: dict[str, Any] = field(default_factory=dict)


class NothingToSend:
    """What `prepare` returns for a row that turned out to need no call (a topic already in
    step): settled as sent, with no send and no rate-limit slot spent."""


NOTHING = NothingToSend()


class Sender(Protocol):
    """Delivers one outbox row in two steps, so no transaction stays open during network I/O."""

    channel: Channel

    async def prepare(self, row: Claimed, session: AsyncSession) -> Any:
        """Read what the message needs (render it); may raise GiveUp."""
        ...

    async def send(self, row: Claimed, prepared: Any) -> str | Sent | None:
        """Send it; return the provider's message id (or a `Sent`). Raise RetryLater or
        GiveUp."""
        ...

    # Optional: `async def reachable(self) -> bool`, asked every few seconds after sends failed
    # for want of an answer; when it says yes, the rows waiting out their backoff go at once.
