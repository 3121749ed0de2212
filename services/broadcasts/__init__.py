"""Broadcasts: one message to every client of a segment, on WhatsApp or Telegram.

- `size`: how many clients of a segment would get it, and how many not and why (opted out,
  no address on the channel, outside WhatsApp's window with no template);
- `start`: the audience frozen, every message written, one transaction (services.broadcasts
  .starting); the outbox's bulk lane delivers them at the channel's rate, never ahead of a
  card, and a crash or restart resumes without sending anyone anything twice;
- `view` / `recent`: progress counted from the messages' statuses (waiting, sent,
  delivered, failed with the reasons).
"""

from services.broadcasts.segments import OUTCOMES, Segment
from services.broadcasts.starting import (
    TEXT_LIMIT,
    Draft,
    lead_sources,
    size,
    start,
    templates,
)
from services.broadcasts.views import BroadcastView, Progress, recent, view

__all__ = [
    "OUTCOMES",
    "TEXT_LIMIT",
    "BroadcastView",
    "Draft",
    "Progress",
    "Segment",
    "lead_sources",
    "recent",
    "size",
    "start",
    "templates",
    "view",
]
