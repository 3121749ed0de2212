"""Callback data of inline buttons: ids and enums only (Telegram allows 64 bytes)."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters import Filter
from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData
from aiogram.types import CallbackQuery
from pydantic import Field

from services.bounds import Int64
from services.reports.periods import Preset


class Packed:
    """Packs callback data as aiogram's `CallbackData.pack` does (same string, same checks),
    without dumping the model to a dict first: a screen packs a dozen buttons, and the dump was
    most of the cost. Put it before CallbackData in the bases."""

    def pack(self: CallbackData) -> str:  # type: ignore[misc]
        kind = type(self)
        separator = kind.__separator__
        parts = [kind.__prefix__]
        for key in kind.model_fields:
            encoded = self._encode_value(key, getattr(self, key))
            if separator in encoded:
                raise ValueError(f"Separator symbol {separator!r} can not be used in {key}")
            parts.append(encoded)
        packed = separator.join(parts)
        if len(packed.encode()) > MAX_CALLBACK_LENGTH:
            raise ValueError(f"Resulted callback data is too long! {packed!r}")
        return packed


# Ids are bounded so that a forged button ("lead:take:99999999999999999999") is simply not
# ours (the filter does not match) rather than an id no database column can hold.


class LeadAction(enum.StrEnum):
    TAKE = "take"
    NON_TARGET = "nt"
    SPAM = "spam"
    OPEN = "open"  # show the full card (a digest lists leads as lines)


class LeadCallback(Packed, CallbackData, prefix="lead"):
    action: LeadAction
    lead_id: Int64


class TaskAction(enum.StrEnum):
    DONE = "done"
    OPEN = "o"  # the task card
    SNOOZE = "sz"  # the snooze choices
    COMMENT = "cm"  # start typing a comment
    REASSIGN = "ra"  # whom to give it to (managers)
    SHOW = "sh"  # the card as a new message (from a digest of reminders)


class TaskCallback(Packed, CallbackData, prefix="task"):
    action: TaskAction
    task_id: Int64


class Snooze(enum.StrEnum):
    MIN_15 = "15"
    HOUR = "60"
    TOMORROW = "tm"  # tomorrow at the start of the working day
    OTHER = "x"  # typed


class TaskSnoozeCallback(Packed, CallbackData, prefix="tz"):
    task_id: Int64
    choice: Snooze


class TaskSnoozeAtCallback(Packed, CallbackData, prefix="tza"):
    """Snooze until `at` (Unix seconds): one of the readings of an ambiguous typed time."""

    task_id: Int64
    at: Annotated[int, Field(ge=0, le=2**40)]


class TaskReassignCallback(Packed, CallbackData, prefix="tra"):
    """Give the task to `employee_id`; 0 shows page `page` of whom to."""

    task_id: Int64
    employee_id: Int64 = 0
    page: Annotated[int, Field(ge=0, le=10_000)] = 0


class NewTaskCallback(Packed, CallbackData, prefix="nt"):
    """A new task from a card: about the client, the lead or the deal (0: none)."""

    client_id: Int64 = 0
    lead_id: Int64 = 0
    deal_id: Int64 = 0


class WhenChoice(enum.StrEnum):
    """A step of the new task's time: a quick choice (services.when.Preset's values), one of
    the readings of an ambiguous typed time (`at`), or the answer to the read-back."""

    IN_HOUR = "1h"
    TODAY_EVENING = "t18"
    TOMORROW = "m10"
    NEXT_MONDAY = "mo10"
    AT = "at"  # `at`: Unix seconds
    YES = "y"
    CHANGE = "c"
    YES_WARN_15 = "y15"  # yes, and a warning 15 minutes before
    YES_WARN_60 = "y60"  # yes, and a warning an hour before


class TaskWhenCallback(Packed, CallbackData, prefix="tw"):
    choice: WhenChoice
    at: Annotated[int, Field(ge=0, le=2**40)] = 0


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


class TaskListView(enum.StrEnum):
    TODAY = "t"
    OVERDUE = "o"
    WEEK = "w"
    OFFICE = "f"  # the office's overdue tasks (managers)


class TaskListCallback(Packed, CallbackData, prefix="tl"):
    view: TaskListView
    page: Annotated[int, Field(ge=0, le=10_000)] = 0


class QueueAction(enum.StrEnum):
    MINE = "me"  # give the lead to whoever pressed
    PICK = "pick"  # show who is on duty for it
    GIVE = "give"  # give it to `employee_id`
    LIST = "list"  # back to the queue


class QueueCallback(Packed, CallbackData, prefix="queue"):
    action: QueueAction
    lead_id: Int64 = 0
    employee_id: Int64 = 0


# A page number on a button; a forged one out of range is not ours (the filter does not match).
Page = Annotated[int, Field(ge=0, le=10_000)]

# --- The staff bot's screens (issue 13). Each class's handler lives with its feature; other
# features only build buttons with them. Enums are append-only: a button already in a chat
# must keep meaning what it meant.


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


# --- Lead cards' sub-screens (issue 13, leads). The picker replaces only the pressed copy's
# buttons; the final action re-renders every copy through services.notify.

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


class Presses(Filter):
    """A router's own filter: only presses of buttons of these kinds reach its handlers. One
    check of the data's prefix per router instead of one unpacking attempt per handler (every
    press passes the routers in front of the one that answers it)."""

    def __init__(self, *kinds: type[CallbackData]) -> None:
        self.prefixes = frozenset(kind.__prefix__ + kind.__separator__ for kind in kinds)

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data or ""
        return any(data.startswith(prefix) for prefix in self.prefixes)
