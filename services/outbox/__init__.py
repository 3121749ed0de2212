"""The outbox: the one place outgoing messages are written, claimed and settled.

Rows are written in the business transaction (`enqueue`) and delivered after commit by the
pump, which claims due rows in short transactions. A chat has one message in flight at a
time. Ordinary messages go out in order (edits of earlier messages don't hold new ones up);
interactive rows go first.

Rows of a coalesce group (new-lead cards, task reminders) need no order among themselves and
hold nothing up: the newest goes first, so a new card overtakes a backlog, and a chat with a
backlog of COALESCE_FROM or more of one group gets up to DIGEST_SIZE of them as one digest
message (a line and a button each) instead of one message a second. See README: "When cards
pile up".
"""

from services.outbox.claiming import claim_due
from services.outbox.messages import (
    CLAIM_LEASE,
    COALESCE_FROM,
    DIGEST_KIND,
    DIGEST_SIZE,
    MAX_ATTEMPTS,
    UNSETTLED,
    Claimed,
    Outgoing,
    chat_of,
    enqueue,
    enqueue_many,
)
from services.outbox.settling import (
    backoff_seconds,
    extend_leases,
    mark_dead,
    mark_retry,
    mark_sent,
    provider_message_id,
    release,
    retry_now,
)

__all__ = [
    "CLAIM_LEASE",
    "COALESCE_FROM",
    "DIGEST_KIND",
    "DIGEST_SIZE",
    "MAX_ATTEMPTS",
    "UNSETTLED",
    "Claimed",
    "Outgoing",
    "backoff_seconds",
    "chat_of",
    "claim_due",
    "enqueue",
    "enqueue_many",
    "extend_leases",
    "mark_dead",
    "mark_retry",
    "mark_sent",
    "provider_message_id",
    "release",
    "retry_now",
]
