"""/help and /cancel, in any dialog state (this router comes before the features' dialogs).

/help shows the person's own commands, explained, with buttons for the main lists
(bot.telegram.commands). /cancel ends whatever dialog is going on."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.telegram import commands
from bot.telegram.screens import Screen, Ui
from handlers.filters import PrivateChat
from handlers.router import Router
from services.actors import Actor


def make_router() -> Router:
    router = Router(name="menu")
    router.message.filter(PrivateChat())
    router.message.register(show_help, Command("help"))
    router.message.register(cancel, Command("cancel"))
    return router


async def show_help(message: Message, actor: Actor | None, ui: Ui) -> None:
    await ui.send(help_for(actor, ui))


def help_for(actor: Actor | None, ui: Ui) -> Screen:
    """The /help screen for `actor` (None: a stranger)."""
    if actor is None:
        return commands.help_screen(None, ui.t)
    return commands.help_screen(actor.role, ui.t, name=actor.name)


async def cancel(message: Message, state: FSMContext, ui: Ui, dialog_expired: bool = False) -> None:
    if await state.get_state() is not None:
        await state.clear()
        await ui.say("menu.dialog.cancelled")
    elif not dialog_expired:  # an expired dialog has just been announced: say nothing more
        await ui.say("menu.dialog.nothing")
