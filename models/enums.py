"""Enumerations stored as short strings (portable across SQLite and PostgreSQL)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    EMPLOYEE = "employee"
    SUPPORT = "support"


class ClientKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class Channel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"


class LeadStatus(enum.StrEnum):
    NEW = "new"
    TARGET = "target"
    NON_TARGET = "non_target"
    SPAM = "spam"


class StageKind(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class DealStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class TaskKind(enum.StrEnum):
    GENERAL = "general"
    CALL_BACK = "call_back"
    VISIT = "visit"


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"
    INTERNAL = "internal"


class MessageStatus(enum.StrEnum):
    RECEIVED = "received"
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class CallStatus(enum.StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    MISSED = "missed"


class CallPhase(enum.StrEnum):
    """Where a live call is, from the PBX's events; it only ever moves forward."""

    RINGING = "ringing"
    TALKING = "talking"
    ENDED = "ended"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # will be retried at next_attempt_at
    DEAD = "dead"  # gave up; last_error says why
    COALESCED = "coalesced"  # delivered as a line of a digest message, not a message of its own


class OutboxLane(enum.StrEnum):
    INTERACTIVE = "interactive"  # cards, replies: never wait behind a broadcast
    BULK = "bulk"  # broadcasts, digests
