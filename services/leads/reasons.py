"""Why a lead is closed as non-target or spam: a fixed list of codes per status, picked from
buttons (texts in config/locales/*.leads.toml under `leads.reason.<code>`). A code is what the
lead keeps (`leads.close_reason`) and reports group by; append codes, never rename them."""

from __future__ import annotations

from models import LeadStatus
from services.errors import InvalidInput

NON_TARGET = ("wrong_number", "not_our_service", "duplicate", "test", "other")
SPAM = ("robot", "advertising", "other")
BY_STATUS = {LeadStatus.NON_TARGET: NON_TARGET, LeadStatus.SPAM: SPAM}  # the closing statuses


def of(status: LeadStatus) -> tuple[str, ...]:
    """The reasons a lead may be closed as `status` for (non-target or spam)."""
    found = BY_STATUS.get(status)
    if found is None:
        raise InvalidInput("a lead can be rejected only as non-target or spam")
    return found


def check(status: LeadStatus, reason: str) -> str:
    if reason not in of(status):
        raise InvalidInput(f"unknown reason {reason!r}", key="leads.unknown_reason")
    return reason
