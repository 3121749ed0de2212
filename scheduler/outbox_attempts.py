"""One delivery attempt of an outbox row and what it came to (the pump's steps: scheduler.
outbox_pump runs them, many at a time): its outcome, and that outcome written on the row."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.delivery import GiveUp, NothingToSend, RetryLater, Sender, Sent
from metrics import OUTBOX_SEND_SECONDS
from models.db import Database
from scheduler.rate_limit import BulkLane, RateLimiter
from services import outbox
from services.outbox import Claimed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    result: str  # "sent", "retry" or "dead"
    provider_id: str | None = None
    error: str = ""
    retry_after: float | None = None
    unreachable: bool = False  # the provider did not answer properly (network, timeout, 5xx)
    facts: dict[str, Any] = field(default_factory=dict)  # bot.delivery.Sent


async def attempt(
    sender: Sender,
    row: Claimed,
    prepared: Any,
    db: Database,
    *,
    bulk: BulkLane | None,
    limiter: RateLimiter | None,
) -> Outcome:
    """One delivery attempt: rendered (unless the batch did), in turn for the channel's rate
    (and the bulk lane's, for a broadcast's row), sent; never raises (but for cancellation)."""
    try:
        if isinstance(prepared, GiveUp):
            raise prepared
        if prepared is None:
            async with db.unit_of_work() as session:
                prepared = await sender.prepare(row, session)
        if isinstance(prepared, NothingToSend):
            return Outcome("sent")
        if bulk is not None:
            await bulk.limiter.acquire("")
        if limiter is not None:
            await limiter.acquire(outbox.chat_of(row.recipient))
    except GiveUp as exc:
        return Outcome("dead", error=str(exc))
    except Exception as exc:  # nothing was sent: try again after the usual backoff
        log.warning("outbox row %s: not sent: %s: %s", row.id, type(exc).__name__, exc)
        return Outcome("retry", error=f"{type(exc).__name__}: {exc}")
    with OUTBOX_SEND_SECONDS.labels(str(row.channel)).time():
        try:
            sent = await sender.send(row, prepared)
            if isinstance(sent, Sent):
                return Outcome("sent", provider_id=sent.provider_id, facts=sent.facts)
            return Outcome("sent", provider_id=sent)
        except RetryLater as exc:
            return Outcome(
                "retry",
                error=str(exc),
                retry_after=exc.retry_after,
                unreachable=exc.retry_after is None,
            )
        except GiveUp as exc:
            return Outcome("dead", error=str(exc))
        except Exception as exc:
            log.exception("sending outbox row %s failed", row.id)
            return Outcome("retry", error=f"{type(exc).__name__}: {exc}", unreachable=True)


async def mark(session: Any, row: Claimed, outcome: Outcome, *, now: datetime) -> str:
    """The attempt's outcome written on the row; what the row is now ("sent", "dead", or
    its status waiting for the next attempt)."""
    digest = row.kind == outbox.DIGEST_KIND
    if outcome.result == "sent":
        await outbox.mark_sent(
            session, row.id, now=now, provider_message_id=outcome.provider_id, digest=digest
        )
        return "sent"
    if outcome.result == "dead":
        await outbox.mark_dead(session, row.id, now=now, error=outcome.error, digest=digest)
        return "dead"
    status = await outbox.mark_retry(
        session,
        row.id,
        now=now,
        attempts=row.attempts,
        error=outcome.error,
        retry_after=outcome.retry_after,
        digest=digest,
    )
    return status.value


def channel_off(row: Claimed) -> Outcome:
    # A channel that is off waits (not dies) until it is configured.
    return Outcome("retry", error=f"channel {row.channel!s} is off", retry_after=300)
