"""Callback data of the buttons of lead cards and the lead queue."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.callbacks.base import Packed, Page
from services.bounds import Int64


class LeadAction(enum.StrEnum):
    TAKE = "take"
    NON_TARGET = "nt"
    SPAM = "spam"
    OPEN = "open"  # show the full card (a digest lists leads as lines)


class LeadCallback(Packed, CallbackData, prefix="lead"):
    action: LeadAction
    lead_id: Int64


class QueueAction(enum.StrEnum):
    MINE = "me"  # give the lead to whoever pressed
    PICK = "pick"  # show who is on duty for it
    GIVE = "give"  # give it to `employee_id`
    LIST = "list"  # back to the queue


class QueueCallback(Packed, CallbackData, prefix="queue"):
    action: QueueAction
    lead_id: Int64 = 0
    employee_id: Int64 = 0


ReasonCode = Annotated[str, Field(pattern=r"^[a-z_]{1,24}$")]


class LeadReasonCallback(Packed, CallbackData, prefix="lr"):
    """Close the lead as `kind` (LeadAction.NON_TARGET or SPAM) for `reason` (a code of
    services.leads.reasons)."""

    lead_id: Int64
    kind: LeadAction
    reason: ReasonCode


class LeadCardCallback(Packed, CallbackData, prefix="lk"):
    """Cancel a picker: the card's own buttons again."""

    lead_id: Int64


class LeadReassignCallback(Packed, CallbackData, prefix="lra"):
    """Reassign the lead: `employee_id` 0 shows page `page` of whom to; else give it to them."""

    lead_id: Int64
    employee_id: Int64 = 0
    page: Page = 0
