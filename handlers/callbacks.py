"""Callback data of inline buttons: ids and enums only (Telegram allows 64 bytes)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from services.bounds import Int64

# Ids are bounded so that a forged button ("lead:take:99999999999999999999") is simply not
# ours (the filter does not match) rather than an id no database column can hold.


class LeadAction(enum.StrEnum):
    TAKE = "take"
    NON_TARGET = "nt"
    SPAM = "spam"
    OPEN = "open"  # show the full card (a digest lists leads as lines)


class LeadCallback(CallbackData, prefix="lead"):
    action: LeadAction
    lead_id: Int64


class TaskAction(enum.StrEnum):
    DONE = "done"


class TaskCallback(CallbackData, prefix="task"):
    action: TaskAction
    task_id: Int64


class QueueAction(enum.StrEnum):
    MINE = "me"  # give the lead to whoever pressed
    PICK = "pick"  # show who is on duty for it
    GIVE = "give"  # give it to `employee_id`
    LIST = "list"  # back to the queue


class QueueCallback(CallbackData, prefix="queue"):
    action: QueueAction
    lead_id: Int64 = 0
    employee_id: Int64 = 0
