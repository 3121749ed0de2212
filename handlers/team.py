"""The team inbox in a staff forum group (services.team decides; this translates).

- `/bind_team [office]`: an admin makes the group the inbox of the company (or the office);
  the bot asks Telegram what it may do there and says what is missing;
- `/team_writes all|owner`: whether anyone of the office answers a client from the topic, or
  only the client's owner (and managers);
- a message typed in a client's topic goes to the client (a note when it starts with "//",
  or after 📝 on the card); a Telegram reply quotes the client's message it answers;
- ✋ Take on the card: the first press wins.

Every message in a group ends here: nothing else the bot does is for groups.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.enums import ContentType
from aiogram.filters import Command, CommandObject, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, ChatMemberAdministrator, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.screens import Screen, Ui
from config.i18n import Translator
from handlers.callbacks import Presses, TeamAction, TeamCallback
from handlers.errors import message_for
from handlers.router import Router
from handlers.telegram_messages import content
from services import team
from services.actors import Actor
from services.context import Company


class GroupChat(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.chat.type in ("group", "supergroup")


# What people write (a service message, a topic closed or a pin, is none of these).
WRITTEN = frozenset(
    {
        ContentType.TEXT,
        ContentType.PHOTO,
        ContentType.DOCUMENT,
        ContentType.VIDEO,
        ContentType.AUDIO,
        ContentType.VOICE,
        ContentType.VIDEO_NOTE,
        ContentType.STICKER,
        ContentType.LOCATION,
        ContentType.CONTACT,
    }
)
NOTE_MODE_FOR = timedelta(minutes=10)  # 📝 makes a note of the next message this soon


class TeamDialog(StatesGroup):
    note = State()  # the next message in topic `topic_id` is a note


def make_router() -> Router:
    router = Router(name="team inbox")
    router.message.filter(GroupChat())
    router.message.register(bind_team, Command("bind_team"))
    router.message.register(team_writes, Command("team_writes"))
    router.message.register(in_topic, StateFilter("*"))
    router.callback_query.register(card_button, Presses(TeamCallback), TeamCallback.filter())
    return router


async def bind_team(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    company: Company,
    actor: Actor | None,
    ui: Ui,
    t: Translator,
) -> None:
    team.require_binder(actor)
    assert actor is not None
    facts = await _group_facts(bot, message)
    try:
        bound = await team.bind(session, facts, by=actor, office_name=command.args, company=company)
    except team.GroupNotReady as not_ready:
        missing = "\n".join(t(f"team.missing.{m}") for m in not_ready.missing)
        await ui.say("team.not_ready", missing=missing)
        return
    scope = t("team.scope_office", name=bound.office) if bound.office else t("team.scope_company")
    await ui.say("team.bound_moved" if bound.moved_from else "team.bound", scope=scope)


async def _group_facts(bot: Bot, message: Message) -> team.GroupFacts:
    """What Telegram says about the group and the bot's rights in it."""
    chat = await bot.get_chat(message.chat.id)
    me = await bot.get_chat_member(message.chat.id, bot.id)
    rights = (
        frozenset(r for r in team.NEEDED_RIGHTS if getattr(me, r, False))
        if isinstance(me, ChatMemberAdministrator)
        else frozenset()
    )
    return team.GroupFacts(
        chat_id=message.chat.id,
        title=chat.title,
        is_supergroup=chat.type == "supergroup",
        is_forum=bool(chat.is_forum),
        bot_is_admin=isinstance(me, ChatMemberAdministrator),
        rights=rights,
    )


async def team_writes(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    company: Company,
    actor: Actor | None,
    ui: Ui,
) -> None:
    which = (command.args or "").strip().lower()
    if actor is None or which not in ("all", "owner"):
        await ui.say("team.writes_usage" if actor else "team.managers_only")
        return
    allowed = which == "all"
    await team.set_others_may_write(session, message.chat.id, allowed, by=actor, company=company)
    await ui.say("team.others_on" if allowed else "team.others_off")


async def in_topic(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor | None,
    ui: Ui,
    state: FSMContext,
    t: Translator,
) -> None:
    thread = message.message_thread_id if message.is_topic_message else None
    author = message.from_user
    if thread is None or author is None or author.is_bot or message.via_bot is not None:
        return  # the General topic, an inline result (a search): the group's own business
    if message.content_type not in WRITTEN:
        return  # a topic closed, renamed or pinned, someone joined: nothing to answer
    text = message.text or ""
    if text.startswith("/") and not text.startswith("//"):
        return  # a command meant for another bot, or mistyped
    if actor is None:  # told once per group, not at every word
        if await team.of_thread(session, message.chat.id, thread) is not None:
            await ui.say("team.not_employee", once=f"team.not_employee:{author.id}")
        return
    note = await _note_mode(state, session, message.chat.id, thread, company.clock.now())
    found = content(message)
    quoted = message.reply_to_message
    # In a topic every message "replies" to the topic's first one; only a real reply quotes.
    quoting = (
        (message.chat.id, quoted.message_id)
        if quoted is not None and quoted.message_id != thread
        else None
    )
    answered = await team.answer(
        session,
        chat_id=message.chat.id,
        thread_id=thread,
        by=actor,
        text=found.text,
        media=found.media,
        quoting=quoting,
        telegram_message_id=message.message_id,
        note=note,
        company=company,
    )
    if answered is None:
        return
    if answered.kept_as_note:
        await ui.say("team.kept_as_note", owner=answered.owner or "")
    elif note:
        await ui.say("team.note_saved")


async def _note_mode(
    state: FSMContext, session: AsyncSession, chat_id: int, thread: int, now: datetime
) -> bool:
    """📝 was pressed on this topic's card, a little while ago: this message is a note (and
    the mode ends). Pressed long ago, or on another topic's card: the mode just ends."""
    if await state.get_state() != TeamDialog.note.state:
        return False
    data = await state.get_data()
    await state.clear()
    pressed = datetime.fromisoformat(str(data.get("at") or "1970-01-01T00:00:00+00:00"))
    if now - pressed > NOTE_MODE_FOR:
        return False
    topic = await team.of_thread(session, chat_id, thread)
    return topic is not None and topic.id == int(data.get("topic_id") or 0)


async def card_button(
    query: CallbackQuery,
    callback_data: TeamCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor | None,
    ui: Ui,
    state: FSMContext,
    t: Translator,
) -> AnswerCallbackQuery:
    if actor is None:
        return query.answer(t("team.not_employee"), show_alert=True)
    data = callback_data
    if data.action is TeamAction.TAKE:
        try:
            name = await team.claim(session, data.topic_id, by=actor, company=company)
        except team.TakenAlready as taken:
            return query.answer(message_for(taken, t), show_alert=True)
        return query.answer(t("team.taken", name=name))
    await state.set_state(TeamDialog.note)
    await state.set_data({"topic_id": data.topic_id, "at": company.clock.now().isoformat()})
    await ui.send(Screen(html.escape(t("team.note_prompt", who=actor.name))))
    return query.answer()
