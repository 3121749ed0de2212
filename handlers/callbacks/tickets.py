"""Callback data of the buttons of support tickets and their lists."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.callbacks.base import Packed
from services.bounds import Int64


class TicketAction(enum.StrEnum):
    OPEN = "o"
    TAKE = "t"
    REPLY = "r"  # start typing answers
    THREAD = "h"  # the whole thread, a message per reply
    CLOSE = "c"


class TicketCallback(Packed, CallbackData, prefix="tk"):
    action: TicketAction
    ticket_id: Int64
    on_reply: bool = False  # pressed on one reply of a thread (left as it is), not a card


class TicketAbout(enum.StrEnum):
    """What record a ticket raised from a card is about."""

    NOTHING = "n"
    CLIENT = "c"
    DEAL = "d"
    LEAD = "l"


class NewTicketCallback(Packed, CallbackData, prefix="ntk"):
    """Raise a ticket: `category` 0 shows the topics, n picks the n-th (from 1); about the
    record `record_id` of the kind `about` (from a card)."""

    category: Annotated[int, Field(ge=0, le=30)] = 0
    about: TicketAbout = TicketAbout.NOTHING
    record_id: Int64 = 0


class TicketDraftAction(enum.StrEnum):
    SEND = "s"
    CANCEL = "x"


class TicketDraftCallback(Packed, CallbackData, prefix="tkd"):
    action: TicketDraftAction


class TicketListView(enum.StrEnum):
    MINE = "m"
    QUEUE = "q"  # support: by category
    CATEGORY = "c"  # support: one category's (`category`, from 1)


class TicketListCallback(Packed, CallbackData, prefix="tkl"):
    view: TicketListView
    category: Annotated[int, Field(ge=0, le=30)] = 0
    page: Annotated[int, Field(ge=0, le=10_000)] = 0
