"""Tasks: due work for an employee, linked to a client, lead or deal.

- `work`: create (for oneself; a manager for the office), done, snooze, reassign, comment;
- `lists`: today, overdue, this week, the office's overdue (managers);
- `reminders`: the scheduler's tick that fires due reminders, each once;
- `call_backs`: "call back" tasks that missed calls open and answered calls close;
- `cards`: what a task card shows.
"""

from services.tasks.call_backs import close_call_backs, open_call_back
from services.tasks.cards import Comment, TaskCard, TaskLine, card, lines
from services.tasks.lists import PAGE_SIZE, TaskItem, TaskPage, TaskView, can_see_office, page_of
from services.tasks.reminders import DUE, WARNING, Fired, fire_due
from services.tasks.work import (
    about,
    clean_title,
    comment,
    complete,
    create,
    reassign,
    reassign_candidates,
    require_may_act,
    snooze,
)

__all__ = [
    "DUE",
    "PAGE_SIZE",
    "WARNING",
    "Comment",
    "Fired",
    "TaskCard",
    "TaskItem",
    "TaskLine",
    "TaskPage",
    "TaskView",
    "about",
    "can_see_office",
    "card",
    "clean_title",
    "close_call_backs",
    "comment",
    "complete",
    "create",
    "fire_due",
    "lines",
    "open_call_back",
    "page_of",
    "reassign",
    "reassign_candidates",
    "require_may_act",
    "snooze",
]
