"""Callback data of the buttons of client conversations, the team inbox and reports."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.callbacks.base import Packed, Page
from services.bounds import Int64
from services.reports.periods import Preset


class ChatAction(enum.StrEnum):
    REPLY = "r"  # the next messages typed go to the client
    NOTE = "n"  # the next message typed is a note that never leaves
    RETRY = "rt"  # send a failed reply again (`message_id`)
    HANDOVER = "h"  # whom to hand the conversation over to (managers)


class ChatCallback(Packed, CallbackData, prefix="cv"):
    """A client conversation's buttons (on relayed messages, delivery notices, lead cards)."""

    action: ChatAction
    conversation_id: Int64
    message_id: Int64 = 0  # the message it is about (quoted by a reply, or to retry)


class ChatHandoverCallback(Packed, CallbackData, prefix="cvh"):
    """Hand a conversation over to `employee_id` (0: the page of candidates `page`)."""

    conversation_id: Int64
    employee_id: Int64 = 0
    page: Page = 0


class ChatTemplateCallback(Packed, CallbackData, prefix="cvt"):
    """Send the channel's `index`-th approved template to the conversation's client."""

    conversation_id: Int64
    index: Annotated[int, Field(ge=0, le=99)] = 0


class TeamAction(enum.StrEnum):
    TAKE = "t"  # the client becomes the presser's (the first press wins)
    NOTE = "n"  # the presser's next message in the topic is a note


class TeamCallback(Packed, CallbackData, prefix="tm"):
    """A team inbox topic card's buttons."""

    action: TeamAction
    topic_id: Int64


class ReportView(enum.StrEnum):
    NUMBERS = "n"  # the manager's report
    SOURCES = "s"  # per source, campaign and line
    PLAN = "p"  # the month's plan against the fact, per person
    FUNNEL = "f"  # the period's deals through the stages
    MISSED = "m"  # the period's missed calls nobody called back
    STUCK = "k"  # deals stuck in their stage now


class ReportCallback(Packed, CallbackData, prefix="rp"):
    """/report's buttons: the period, and whose numbers (0: the viewer's own scope: their
    own numbers, their office's, the company's), and which report."""

    preset: Preset
    who: Int64 = 0
    view: ReportView = ReportView.NUMBERS
    day: Annotated[int, Field(ge=0, le=1_000_000)] = 0  # one day (an ordinal), from a digest
    pipeline: Int64 = 0  # the funnel's (0: the default pipeline)
