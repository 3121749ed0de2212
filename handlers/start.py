"""/start: employees bind their Telegram account with an invite link (`/start <code>`)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.limits import clip
from config.i18n import Translator
from services import employees
from services.actors import Actor
from services.context import Company


def make_router() -> Router:
    router = Router(name="start")
    router.message.filter(F.chat.type == "private")
    router.message.register(start_with_invite, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    return router


async def start_with_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    company: Company,
    t: Translator,
) -> None:
    assert message.from_user is not None
    employee = await employees.redeem_invite(
        session,
        (command.args or "").strip(),
        telegram_id=message.from_user.id,
        username=message.from_user.username,
        company=company,
    )
    name = escape(clip(employee.name))  # replies are HTML: a name is text, never markup
    await message.answer(Translator(employee.locale or t.locale)("bot.invite_ok", name=name))


async def start(message: Message, actor: Actor | None, t: Translator) -> None:
    if actor is None:
        await message.answer(t("bot.start_unknown"))
    else:
        await message.answer(t("bot.start_employee", name=escape(clip(actor.name))))
