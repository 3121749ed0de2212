"""Tasks in Telegram: the buttons of a task card and of its reminders (Done, Snooze with the
usual choices or a typed time, Comment, Reassign for managers). The service re-checks access
on every press; a typed time or comment is a short dialog (/cancel leaves it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import task_screens
from bot.telegram.dialogs import start_dialog
from bot.telegram.screens import Screen, Ui
from config.i18n import Translator
from handlers.callbacks import (
    Presses,
    Snooze,
    TaskAction,
    TaskCallback,
    TaskListCallback,
    TaskListView,
    TaskReassignCallback,
    TaskSnoozeAtCallback,
    TaskSnoozeCallback,
)
from handlers.filters import TypedText
from handlers.router import Router
from services import actors, tasks, when
from services.actors import Actor
from services.context import Company

_SNOOZES = {Snooze.MIN_15: timedelta(minutes=15), Snooze.HOUR: timedelta(hours=1)}


class TaskDialog(StatesGroup):
    snooze = State()  # a typed time to remind at
    comment = State()


def make_router() -> Router:
    router = Router(name="staff.tasks")
    kinds = (
        TaskCallback,
        TaskSnoozeCallback,
        TaskSnoozeAtCallback,
        TaskReassignCallback,
        TaskListCallback,
    )
    router.callback_query.filter(Presses(*kinds))
    router.message.register(cancel, Command("cancel"), StateFilter(TaskDialog))
    router.message.register(typed, StateFilter(TaskDialog), TypedText())
    router.message.register(show_tasks, Command("tasks"))
    router.callback_query.register(list_button, TaskListCallback.filter())
    router.callback_query.register(task_button, TaskCallback.filter())
    router.callback_query.register(snooze_button, TaskSnoozeCallback.filter())
    router.callback_query.register(snooze_at_button, TaskSnoozeAtCallback.filter())
    router.callback_query.register(reassign_button, TaskReassignCallback.filter())
    return router


_VIEWS = {
    TaskListView.TODAY: tasks.TaskView.TODAY,
    TaskListView.OVERDUE: tasks.TaskView.OVERDUE,
    TaskListView.WEEK: tasks.TaskView.WEEK,
    TaskListView.OFFICE: tasks.TaskView.OFFICE_OVERDUE,
}


async def show_tasks(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    if await state.get_state() in TaskDialog.__all_states_names__:
        await state.clear()
    await ui.send(await _list(session, TaskListView.TODAY, 0, actor, company, ui.t))


async def list_button(
    query: CallbackQuery,
    callback_data: TaskListCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    view, page = callback_data.view, callback_data.page
    await ui.edit(await _list(session, view, page, actor, company, ui.t))
    return query.answer()


async def _list(
    session: AsyncSession,
    view: TaskListView,
    page: int,
    actor: Actor,
    company: Company,
    t: Translator,
) -> Screen:
    tz = await actors.zone_of(session, actor, company.timezone)
    now = company.clock.now()
    found = await tasks.page_of(session, _VIEWS[view], by=actor, now=now, tz=tz, page=page)
    manager = tasks.can_see_office(actor)
    return task_screens.task_list(found, view, t, tz, manager=manager)


async def task_button(
    query: CallbackQuery,
    callback_data: TaskCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    if await state.get_state() in TaskDialog.__all_states_names__:
        await state.clear()  # a press on a task's button leaves a half-typed dialog
    action, task_id, t = callback_data.action, callback_data.task_id, ui.t
    if action is TaskAction.DONE:
        # Every copy of the card (and of its reminders) is edited through the outbox.
        await tasks.complete(session, task_id, by=actor, company=company)
        return query.answer(t("alert.task_done"))
    card = await tasks.card(session, task_id)
    if action is TaskAction.SNOOZE:
        await tasks.require_may_act(session, task_id, by=actor)
        await ui.edit(task_screens.snooze_choices(card, t))
    elif action is TaskAction.COMMENT:
        await tasks.require_may_act(session, task_id, by=actor)
        await start_dialog(state, TaskDialog.comment, clock=company.clock, task_id=task_id)
        await ui.edit(task_screens.prompt("task.comment_prompt", card, t))
    elif action is TaskAction.REASSIGN:
        await ui.edit(await _reassign_screen(session, card, actor, t, page=0))
    elif action is TaskAction.SHOW:  # from a digest of reminders: the digest stays
        await tasks.require_may_act(session, task_id, by=actor)
        await ui.send(await _card(session, card, actor, company, t))
    else:
        await ui.edit(await _card(session, card, actor, company, t))
    return query.answer()


async def snooze_button(
    query: CallbackQuery,
    callback_data: TaskSnoozeCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    task_id, choice, t = callback_data.task_id, callback_data.choice, ui.t
    tz = await actors.zone_of(session, actor, company.timezone)
    now = company.clock.now()
    if choice is Snooze.OTHER:
        await tasks.require_may_act(session, task_id, by=actor)
        card = await tasks.card(session, task_id)
        await start_dialog(state, TaskDialog.snooze, clock=company.clock, task_id=task_id)
        await ui.edit(task_screens.prompt("task.snooze_prompt", card, t))
        return query.answer()
    if choice is Snooze.TOMORROW:  # the same "tomorrow 10:00" as a new task's quick choice
        until = when.presets(now, tz)[when.Preset.TOMORROW]
    else:
        until = now + _SNOOZES[choice]
    return await _snooze(query, session, task_id, until, actor=actor, company=company, ui=ui)


async def snooze_at_button(
    query: CallbackQuery,
    callback_data: TaskSnoozeAtCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    until = datetime.fromtimestamp(callback_data.at, UTC)
    return await _snooze(
        query, session, callback_data.task_id, until, actor=actor, company=company, ui=ui
    )


async def _snooze(
    query: CallbackQuery,
    session: AsyncSession,
    task_id: int,
    until: datetime,
    *,
    actor: Actor,
    company: Company,
    ui: Ui,
) -> AnswerCallbackQuery:
    await tasks.snooze(session, task_id, until, by=actor, company=company)
    card = await tasks.card(session, task_id)
    await ui.edit(await _card(session, card, actor, company, ui.t))
    tz = await actors.zone_of(session, actor, company.timezone)
    moment = ui.t.moment(until, tz, now=company.clock.now())
    return query.answer(ui.t("task.snoozed_alert", when=moment))


async def reassign_button(
    query: CallbackQuery,
    callback_data: TaskReassignCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
) -> AnswerCallbackQuery:
    task_id, t = callback_data.task_id, ui.t
    if not callback_data.employee_id:
        card = await tasks.card(session, task_id)
        await ui.edit(await _reassign_screen(session, card, actor, t, page=callback_data.page))
        return query.answer()
    await tasks.reassign(session, task_id, callback_data.employee_id, by=actor, company=company)
    card = await tasks.card(session, task_id)
    await ui.edit(await _card(session, card, actor, company, t))
    return query.answer(t("task.reassigned"))


async def typed(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    """A typed time to snooze to, or a comment; a time not understood is asked again (the
    dialog waits), an ambiguous one offers its readings as buttons."""
    task_id, text = (await state.get_data())["task_id"], message.text or ""
    t = ui.t
    if await state.get_state() == TaskDialog.comment.state:
        await tasks.comment(session, task_id, text, by=actor, company=company)
        await state.clear()
        await ui.say("task.commented")
    else:
        tz = await actors.zone_of(session, actor, company.timezone)
        read = when.parse_when(text, company.clock.now(), tz)
        if isinstance(read, when.Unclear):

            def pick(at: datetime) -> TaskSnoozeAtCallback:
                return TaskSnoozeAtCallback(task_id=task_id, at=int(at.timestamp()))

            now = company.clock.now()
            await ui.send(task_screens.unclear_time(read, t, tz, now=now, pick=pick))
            return
        await tasks.snooze(session, task_id, read.at, by=actor, company=company)
        await state.clear()
        await ui.say("task.snoozed_alert", when=t.moment(read.at, tz, now=company.clock.now()))
    card = await tasks.card(session, task_id)
    await ui.send(await _card(session, card, actor, company, t))


async def cancel(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.clear()
    await ui.say("task.cancelled")


async def _card(
    session: AsyncSession, card: tasks.TaskCard, actor: Actor, company: Company, t: Translator
) -> Screen:
    tz = await actors.zone_of(session, actor, company.timezone)
    return task_screens.card(card, t, tz, viewer=actor, now=company.clock.now())


async def _reassign_screen(
    session: AsyncSession, card: tasks.TaskCard, actor: Actor, t: Translator, *, page: int
) -> Screen:
    people, more = await tasks.reassign_candidates(session, card.task_id, by=actor, page=page)
    return task_screens.reassign_choices(card, people, t, page=page, has_more=more)
