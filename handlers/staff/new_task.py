"""A new task from Telegram: `/task`, or the Task button on a client, lead or deal card.

What to do (typed), then when: a quick choice (in an hour, today 18:00, tomorrow 10:00, Monday
10:00) sets it at once; a typed time is read back ("пт, 05.12 в 10:00 — верно?") and set on Yes;
an ambiguous one offers its readings as buttons; one not understood is asked again. The task is
the employee's own (managers give tasks to others from its card, Reassign)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from aiogram.utils.formatting import Text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import task_screens
from bot.telegram.dialogs import start_dialog
from bot.telegram.limits import clip
from bot.telegram.screens import Button, Screen, Ui, button
from config.i18n import Translator
from handlers.callbacks import NewTaskCallback, Presses, TaskWhenCallback, WhenChoice
from handlers.filters import TypedText
from handlers.router import Router
from services import actors, tasks, when
from services.actors import Actor
from services.context import Company

_PRESETS = {
    WhenChoice.IN_HOUR: (when.Preset.IN_HOUR, "task.new.in_hour"),
    WhenChoice.TODAY_EVENING: (when.Preset.TODAY_EVENING, "task.new.today_evening"),
    WhenChoice.TOMORROW: (when.Preset.TOMORROW, "task.new.tomorrow"),
    WhenChoice.NEXT_MONDAY: (when.Preset.NEXT_MONDAY, "task.new.next_monday"),
}


_WARNINGS = {WhenChoice.YES_WARN_15: 15, WhenChoice.YES_WARN_60: 60}


class NewTask(StatesGroup):
    title = State()
    when = State()  # a typed time or a quick choice
    confirm = State()  # the typed time read back: Yes, or Change (or type another)


def make_router() -> Router:
    router = Router(name="staff.new_task")
    router.callback_query.filter(Presses(NewTaskCallback, TaskWhenCallback))
    router.message.register(cancel, Command("cancel"), StateFilter(NewTask))
    router.message.register(start, Command("task"))
    router.message.register(typed_title, StateFilter(NewTask.title), TypedText())
    router.message.register(typed_when, StateFilter(NewTask.when, NewTask.confirm), TypedText())
    router.callback_query.register(from_card, NewTaskCallback.filter())
    router.callback_query.register(when_button, TaskWhenCallback.filter())
    return router


async def start(message: Message, company: Company, ui: Ui, state: FSMContext) -> None:
    await start_dialog(state, NewTask.title, clock=company.clock)
    await ui.say("task.new.title_prompt")


async def from_card(
    query: CallbackQuery,
    callback_data: NewTaskCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    links = {
        "client_id": callback_data.client_id or None,
        "lead_id": callback_data.lead_id or None,
        "deal_id": callback_data.deal_id or None,
    }
    subject = await tasks.about(session, by=actor, **links)
    await start_dialog(state, NewTask.title, clock=company.clock, **links)
    if subject is None:
        await ui.say("task.new.title_prompt")
    else:
        await ui.say("task.new.title_prompt_about", about=clip(subject, 60))
    return query.answer()


async def typed_title(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    title = tasks.clean_title(message.text or "")  # a bad one is answered; the dialog waits
    await state.update_data(title=title)
    await state.set_state(NewTask.when)
    tz = await actors.zone_of(session, actor, company.timezone)
    await ui.send(_when_screen(title, ui.t, company.clock.now(), tz))


async def typed_when(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> None:
    """A typed time: read back for a Yes, offered as readings, or asked again."""
    data, t, now = await state.get_data(), ui.t, company.clock.now()
    tz = await actors.zone_of(session, actor, company.timezone)
    read = when.parse_when(message.text or "", now, tz)
    if isinstance(read, when.Unclear):
        await state.set_state(NewTask.when)
        await ui.send(task_screens.unclear_time(read, t, tz, now=now, pick=_reading))
        return
    await state.update_data(at=int(read.at.timestamp()))
    await state.set_state(NewTask.confirm)
    moment = t.moment(read.at, tz, now=now)
    text = t("task.new.confirm", title=clip(data["title"]), when=moment)
    if read.assumed_time:
        text += " " + t("task.new.assumed", time=t.when(read.at, tz, with_date=False))
    rows = [
        [
            button(t("task.new.yes"), TaskWhenCallback(choice=WhenChoice.YES)),
            button(t("task.new.change"), TaskWhenCallback(choice=WhenChoice.CHANGE)),
        ],
        [  # an earlier warning as well, where there is time for one
            button(t(f"task.new.yes_warn_{minutes}"), TaskWhenCallback(choice=choice))
            for choice, minutes in _WARNINGS.items()
            if read.at - timedelta(minutes=minutes) > now
        ],
    ]
    await ui.send(Screen.of(Text(text), [row for row in rows if row]))


async def when_button(
    query: CallbackQuery,
    callback_data: TaskWhenCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    t, now, choice = ui.t, company.clock.now(), callback_data.choice
    if await state.get_state() not in (NewTask.when.state, NewTask.confirm.state):
        return query.answer(t("menu.dialog.expired"), show_alert=True)
    data = await state.get_data()
    tz = await actors.zone_of(session, actor, company.timezone)
    if choice is WhenChoice.CHANGE:
        await state.set_state(NewTask.when)
        await ui.edit(_when_screen(data["title"], t, now, tz))
        return query.answer()
    if choice in _PRESETS:
        due = when.presets(now, tz).get(_PRESETS[choice][0])
    elif choice is WhenChoice.AT:
        due = datetime.fromtimestamp(callback_data.at, UTC)
    else:
        due = datetime.fromtimestamp(int(data["at"]), UTC)
    if due is None or due <= now:  # a choice left on the screen until it passed
        await state.set_state(NewTask.when)
        await ui.edit(_when_screen(data["title"], t, now, tz))
        return query.answer(t("task.error.past"), show_alert=True)
    task = await tasks.create(
        session,
        title=data["title"],
        due_at=due,
        assignee_id=actor.id,
        by=actor,
        company=company,
        client_id=data.get("client_id"),
        lead_id=data.get("lead_id"),
        deal_id=data.get("deal_id"),
        warn_minutes=_WARNINGS.get(choice),
    )
    await state.clear()
    await ui.edit(Screen.of(Text(t("task.new.created", when=t.moment(due, tz, now=now)))))
    card = await tasks.card(session, task.id)
    await ui.send(task_screens.card(card, t, tz, viewer=actor, now=now))
    return query.answer()


async def cancel(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.clear()
    await ui.say("task.cancelled")


def _reading(at: datetime) -> TaskWhenCallback:
    return TaskWhenCallback(choice=WhenChoice.AT, at=int(at.timestamp()))


def _when_screen(title: str, t: Translator, now: datetime, tz: tzinfo) -> Screen:
    ahead = when.presets(now, tz)
    choices: list[Button] = [
        button(t(key), TaskWhenCallback(choice=choice))
        for choice, (preset, key) in _PRESETS.items()
        if preset in ahead
    ]
    rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
    return Screen.of(Text(t("task.new.when_prompt", title=clip(title))), rows)
