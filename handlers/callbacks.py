"""Callback data of inline buttons: ids and enums only (Telegram allows 64 bytes)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class LeadAction(enum.StrEnum):
    TAKE = "take"
    NON_TARGET = "nt"
    SPAM = "spam"
    OPEN = "open"  # show the full card (a digest lists leads as lines)


class LeadCallback(CallbackData, prefix="lead"):
    action: LeadAction
    lead_id: int


class TaskAction(enum.StrEnum):
    DONE = "done"


class TaskCallback(CallbackData, prefix="task"):
    action: TaskAction
    task_id: int


class QueueAction(enum.StrEnum):
    MINE = "me"  # give the lead to whoever pressed
    PICK = "pick"  # show who is on duty for it
    GIVE = "give"  # give it to `employee_id`
    LIST = "list"  # back to the queue


class QueueCallback(CallbackData, prefix="queue"):
    action: QueueAction
    lead_id: int = 0
    employee_id: int = 0
