"""/start: employees bind their Telegram account with an invite link (`/start <code>`); a bound
employee gets their menu (the /help screen), a stranger is told how to connect. Either way the
chat's command list is brought up to date (services.notify.menu_changed), which also gives
employees added with a Telegram id (`crm employee add --telegram-id`) their menu."""

from __future__ import annotations

from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.screens import Ui
from config.i18n import Translator
from handlers.filters import PrivateChat
from handlers.menu import help_for
from handlers.router import Router
from services import employees, notify
from services.actors import Actor
from services.context import Company


def make_router() -> Router:
    router = Router(name="start")
    router.message.filter(PrivateChat())
    router.message.register(start_with_invite, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    return router


async def start_with_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    company: Company,
    ui: Ui,
) -> None:
    assert message.from_user is not None
    employee = await employees.redeem_invite(
        session,
        (command.args or "").strip(),
        telegram_id=message.from_user.id,
        username=message.from_user.username,
        company=company,
    )
    ui = Ui(session, company, chat_id=ui.chat_id, t=Translator(employee.locale or ui.t.locale))
    await ui.say("bot.invite_ok", name=employee.name)
    await ui.send(help_for(Actor.of(employee), ui))  # redeem_invite has set their menu


async def start(
    message: Message, session: AsyncSession, company: Company, actor: Actor | None, ui: Ui
) -> None:
    await ui.send(help_for(actor, ui))
    if actor is not None and message.from_user is not None:
        await notify.menu_changed(
            session,
            telegram_id=message.from_user.id,
            now=company.clock.now(),
            default_locale=company.locale,
        )
