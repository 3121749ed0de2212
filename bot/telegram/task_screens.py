"""Task screens: the task card (also what a reminder shows), the snooze choices, whom to give
a task to, and the prompts of the typed steps. Times are in the viewer's zone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.formatting import Bold, Text, as_key_value, as_list

from bot.telegram.html import as_html
from bot.telegram.limits import clip
from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    NewTaskCallback,
    Snooze,
    TaskAction,
    TaskCallback,
    TaskListCallback,
    TaskListView,
    TaskReassignCallback,
    TaskSnoozeCallback,
)
from models import TaskStatus
from services import access, tasks, when
from services.actors import Actor
from services.tasks import TaskCard

Rows = list[list[Button]]
COMMENT_TEXT = 200  # a comment's text on the card


def card(
    task: TaskCard,
    t: Translator,
    tz: tzinfo,
    *,
    viewer: Actor | None,
    now: datetime,
    reminder: str | None = None,
    late_from: datetime | None = None,
) -> Screen:
    """The card as `viewer` sees it (None: whoever the chat is, with every button); a reminder
    is the card under a reminder's heading (`reminder`: tasks.WARNING or tasks.DUE)."""
    heading = {tasks.WARNING: "task.warning", tasks.DUE: "task.reminder"}.get(
        reminder or "", "task.title"
    )
    parts: list[Text] = [Bold(t(heading, title=clip(task.title)))]
    if late_from is not None:
        parts.append(Text(t("task.late", when=t.when(late_from, tz))))
    fields = []
    if task.due_at is not None:
        due = t.when(task.due_at, tz)
        if task.status is TaskStatus.OPEN and task.due_at < now:
            due = f"{due} ({t('task.overdue_mark')})"
        fields.append(as_key_value(t("task.due"), due))
    if task.status is TaskStatus.OPEN and task.snoozed_until and task.snoozed_until > now:
        fields.append(as_key_value(t("task.snoozed"), t.when(task.snoozed_until, tz)))
    fields.append(as_key_value(t("task.assignee"), clip(task.assignee or t("task.nobody"))))
    if task.client is not None:
        fields.append(as_key_value(t("task.client"), clip(task.client.name or "—")))
    parts.append(as_list(*fields))
    if task.comments:
        lines = [
            Text(
                t(
                    "task.comment_line",
                    when=t.when(c.at, tz),
                    who=clip(c.author or "—", 60),
                    text=clip(c.text, COMMENT_TEXT),
                )
            )
            for c in task.comments
        ]
        parts.append(as_list(Text(t("task.comments")), *lines))
    state = _state(task, t, viewer)
    if state is not None:
        parts.append(state)
    return Screen.of(as_list(*parts, sep="\n\n"), _buttons(task, t, viewer))


def snooze_choices(task: TaskCard, t: Translator) -> Screen:
    rows: Rows = [
        [
            _snooze(t("task.button.in_15"), task, Snooze.MIN_15),
            _snooze(t("task.button.in_60"), task, Snooze.HOUR),
            _snooze(t("task.button.tomorrow"), task, Snooze.TOMORROW),
        ],
        [_snooze(t("task.button.other"), task, Snooze.OTHER)],
        [_back(task, t)],
    ]
    return Screen.of(Text(t("task.snooze_title", title=clip(task.title))), rows)


def prompt(key: str, task: TaskCard, t: Translator) -> Screen:
    return Screen.of(Text(t(key, title=clip(task.title))), [[_back(task, t)]])


def reassign_choices(
    task: TaskCard,
    people: Sequence[tuple[int, str]],
    t: Translator,
    *,
    page: int,
    has_more: bool,
) -> Screen:
    rows: Rows = [
        [button(clip(name, 60), TaskReassignCallback(task_id=task.task_id, employee_id=i))]
        for i, name in people
    ]
    pager: list[Button] = []
    if page > 0:
        pager.append(button("‹", TaskReassignCallback(task_id=task.task_id, page=page - 1)))
    if has_more:
        pager.append(button("›", TaskReassignCallback(task_id=task.task_id, page=page + 1)))
    if pager:
        rows.append(pager)
    rows.append([_back(task, t)])
    return Screen.of(Text(t("task.reassign_title", title=clip(task.title))), rows)


_LIST_TITLES = {
    TaskListView.TODAY: "task.list.today",
    TaskListView.OVERDUE: "task.list.overdue",
    TaskListView.WEEK: "task.list.week",
    TaskListView.OFFICE: "task.list.office",
}


def task_list(
    page: tasks.TaskPage,
    view: TaskListView,
    t: Translator,
    tz: tzinfo,
    *,
    manager: bool,
) -> Screen:
    """One page of a list: a button per task (it opens the card), the pager, the other lists."""
    office = view is TaskListView.OFFICE
    rows: Rows = []
    for item in page.items:
        when = t.when(item.due_at, tz) if item.due_at else "—"
        key = "task.list.office_line" if office else "task.list.line"
        label = t(key, when=when, who=clip(item.assignee or "—", 20), title=item.title)
        rows.append(
            [button(clip(label, 60), TaskCallback(action=TaskAction.OPEN, task_id=item.id))]
        )
    pager: list[Button] = []
    if page.page > 0:
        pager.append(button("‹", TaskListCallback(view=view, page=page.page - 1)))
    if page.page + 1 < page.pages:
        pager.append(button("›", TaskListCallback(view=view, page=page.page + 1)))
    if pager:
        rows.append(pager)
    views = [TaskListView.TODAY, TaskListView.OVERDUE, TaskListView.WEEK]
    switch = [
        button(t(f"task.list.{v.name.lower()}_button"), TaskListCallback(view=v))
        for v in views
        if v is not view
    ]
    rows.append(switch)
    if manager and not office:
        rows.append(
            [button(t("task.list.office_button"), TaskListCallback(view=TaskListView.OFFICE))]
        )
    rows.append([button(t("task.list.new_button"), NewTaskCallback())])
    title = Bold(t(_LIST_TITLES[view], count=page.total))
    if not page.items:
        return Screen.of(as_list(title, Text(t("task.list.empty")), sep="\n\n"), rows)
    return Screen.of(Text(title), rows)


def reminders_digest(
    items: Sequence[tasks.TaskLine], t: Translator, tz: tzinfo
) -> tuple[str, Rows]:
    """Several reminders waiting for one chat as one message: a line and a button each (the
    button sends that task's card, with Done and Snooze)."""
    lines: list[Text] = [
        Bold(t("task.digest.title", count=len(items))),
        Text(t("task.digest.hint")),
    ]
    rows: Rows = []
    for n, item in enumerate(items, start=1):
        when = t.when(item.due_at, tz) if item.due_at else "—"
        done = "✅ " if item.status is not TaskStatus.OPEN else ""
        line = t("task.digest.line", n=n, when=when, title=done + clip(item.title, 80))
        lines.append(Text(line + (" " + t("task.digest.late") if item.late else "")))
        label = t("task.digest.button", n=n, title=clip(item.title, 30))
        rows.append([button(label, TaskCallback(action=TaskAction.SHOW, task_id=item.id))])
    return as_html(as_list(*lines)), rows


def unclear_time(
    read: when.Unclear,
    t: Translator,
    tz: tzinfo,
    *,
    now: datetime,
    pick: Callable[[datetime], CallbackData],
) -> Screen:
    """A typed time that was not taken: its readings as buttons (`pick` makes each one's
    callback data), or why it cannot be a time."""
    rows: Rows = [[button(t.moment(option, tz, now=now), pick(option))] for option in read.options]
    key = "when.ambiguous" if rows else f"when.{read.reason.value}"
    return Screen.of(Text(t(key)), rows)


# --- inside


def _state(task: TaskCard, t: Translator, viewer: Actor | None) -> Text | None:
    if task.status is TaskStatus.DONE:
        return Bold(t("task.done", name=clip(task.assignee or "—")))
    if task.status is TaskStatus.OPEN and viewer is not None and not _may_act(task, viewer):
        return Bold(t("task.reassigned_to", name=clip(task.assignee or "—")))
    return None


def _may_act(task: TaskCard, viewer: Actor) -> bool:
    return access.can_act_on_task(viewer, assignee_id=task.assignee_id, office_id=task.office_id)


def _buttons(task: TaskCard, t: Translator, viewer: Actor | None) -> Rows:
    rows: Rows = []
    if task.status is TaskStatus.OPEN and (viewer is None or _may_act(task, viewer)):
        rows.append(
            [
                button(t("task.button.done"), _task(TaskAction.DONE, task)),
                button(t("task.button.snooze"), _task(TaskAction.SNOOZE, task)),
            ]
        )
        row = [button(t("task.button.comment"), _task(TaskAction.COMMENT, task))]
        if viewer is not None and access.can_reassign_task(viewer, office_id=task.office_id):
            row.append(button(t("task.button.reassign"), _task(TaskAction.REASSIGN, task)))
        rows.append(row)
    if task.client is not None and (viewer is None or _may_act(task, viewer)):
        client = ClientCallback(action=ClientAction.OPEN, client_id=task.client.client_id)
        rows.append([button(t("task.button.client"), client)])
    return rows


def _task(action: TaskAction, task: TaskCard) -> TaskCallback:
    return TaskCallback(action=action, task_id=task.task_id)


def _snooze(text: str, task: TaskCard, choice: Snooze) -> Button:
    return button(text, TaskSnoozeCallback(task_id=task.task_id, choice=choice))


def _back(task: TaskCard, t: Translator) -> Button:
    return button(t("task.button.back"), _task(TaskAction.OPEN, task))
