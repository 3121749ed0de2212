"""Callback data of the buttons of task cards, reminders, new tasks and task lists."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.callbacks.base import Packed
from services.bounds import Int64


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


class TaskListView(enum.StrEnum):
    TODAY = "t"
    OVERDUE = "o"
    WEEK = "w"
    OFFICE = "f"  # the office's overdue tasks (managers)


class TaskListCallback(Packed, CallbackData, prefix="tl"):
    view: TaskListView
    page: Annotated[int, Field(ge=0, le=10_000)] = 0
