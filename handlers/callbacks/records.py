"""Callback data of the buttons of client and deal cards, their lists, merges and edits."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.callbacks.base import Packed, Page
from services.bounds import Int64


class ClientAction(enum.StrEnum):
    OPEN = "o"  # the client card, timeline page `page`
    EDIT = "e"  # the edit menu (fields)
    NOTE = "n"  # start typing a note
    LEADS = "l"  # the client's leads
    DEALS = "d"  # the client's deals
    MERGE = "m"  # merge with a duplicate (managers)


class ClientCallback(Packed, CallbackData, prefix="cl"):
    action: ClientAction
    client_id: Int64
    page: Page = 0


class DealAction(enum.StrEnum):
    OPEN = "o"
    STAGE = "st"  # move to stage `arg`
    WON = "won"
    LOST = "lost"  # `arg` 0: show the reasons; n: reason number n
    AMOUNT = "amt"
    COST = "cost"
    NOTE = "n"
    HISTORY = "h"
    REOPEN = "re"  # a won or lost deal back to work


class DealCallback(Packed, CallbackData, prefix="dl"):
    action: DealAction
    deal_id: Int64
    arg: Int64 = 0


class NewDealCallback(Packed, CallbackData, prefix="nd"):
    """A new deal for a client, from their card or (with `lead_id`) from a lead."""

    client_id: Int64
    lead_id: Int64 = 0


class ListView(enum.StrEnum):
    MY_LEADS = "ml"  # my new leads
    OFFICE_LEADS = "ol"  # the office's unassigned and untaken leads (managers)
    MY_DEALS = "md"  # my deals by stage
    OFFICE_DEALS = "od"  # the office's deals by stage (managers)
    DEALS_BY_EMPLOYEE = "oe"  # the office's deals by employee (managers)
    STAGE_DEALS = "sd"  # the deals of one stage (`stage_id`; `employee_id` 0 for the scope)


class ListCallback(Packed, CallbackData, prefix="ls"):
    view: ListView
    page: Page = 0
    stage_id: Int64 = 0
    employee_id: Int64 = 0


class MergeAction(enum.StrEnum):
    START = "s"  # from `client_id`'s card: find the duplicate
    PICK = "p"  # `other_id` picked: show both and ask
    CONFIRM = "c"  # merge `other_id` into `client_id`
    CANCEL = "x"  # leave the merge: back to `client_id`'s card


class MergeCallback(Packed, CallbackData, prefix="mg"):
    action: MergeAction
    client_id: Int64
    other_id: Int64 = 0


class MergeUndoCallback(Packed, CallbackData, prefix="mu"):
    merge_id: Int64


class CreateClientCallback(Packed, CallbackData, prefix="cc"):
    """Start creating a client, with the phone already known (a shared contact's)."""

    phone: Annotated[str, Field(pattern=r"^\d{0,15}$")] = ""


class ClientField(enum.StrEnum):
    NAME = "n"
    COMPANY = "c"
    PHONE = "p"  # add a phone
    EMAIL = "e"  # add an e-mail
    CONTACT = "cp"  # add a contact person
    REMOVE = "rm"  # remove the phone or e-mail `identity_id`


class ClientEditCallback(Packed, CallbackData, prefix="ce"):
    """A field picked in a client's Edit menu."""

    field: ClientField
    client_id: Int64
    identity_id: Int64 = 0
