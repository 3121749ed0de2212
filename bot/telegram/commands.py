"""The bot's menus: which commands each role has, in one place.

Telegram shows a person the command list of the narrowest scope that has one (Bot API,
"Determining list of commands"): a bound employee's private chat gets their role's list
(`BotCommandScopeChat`, set with no `language_code`, so it applies whatever language their
Telegram app speaks, with descriptions in the employee's own locale); everyone else falls back
to the strangers' list set for all private chats, per language (`ru`, `en`) and without one
(the company's locale). Lists change through the outbox (`services.notify.menu_changed`,
`bot.telegram.sender`), so a role change or a deactivation reaches Telegram after commit.

/help (`help_screen`) explains the same list, with buttons for the main lists.
"""

from __future__ import annotations

import hashlib

from aiogram.types import BotCommand
from aiogram.utils.formatting import Bold, Text, as_line, as_list

from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import ListCallback, ListView, QueueAction, QueueCallback
from models import Role

# Commands every employee has (the features implement them: find, leads, deals, clients).
_STAFF = ("leads", "deals", "tasks", "tickets", "find", "new_client", "report")
_MANAGERS = (
    *("leads", "office", "queue", "deals", "tasks", "tickets", "find", "new_client"),
    "report",
)
MENUS: dict[Role | None, tuple[str, ...]] = {
    None: ("start", "help"),  # strangers, and former employees
    Role.EMPLOYEE: (*_STAFF, "help", "cancel"),
    Role.SUPPORT: ("tickets", "find", "leads", "deals", "tasks", "help", "cancel"),
    Role.MANAGER: (*_MANAGERS, "help", "cancel"),
    Role.ADMIN: (*_MANAGERS, "help", "cancel"),
}
# Buttons under /help: the main lists each role can open.
_MY = [
    [("menu.button.my_leads", ListCallback(view=ListView.MY_LEADS))],
    [("menu.button.my_deals", ListCallback(view=ListView.MY_DEALS))],
]
_OFFICE = [
    [
        ("menu.button.my_leads", ListCallback(view=ListView.MY_LEADS)),
        ("menu.button.office_leads", ListCallback(view=ListView.OFFICE_LEADS)),
    ],
    [
        ("menu.button.my_deals", ListCallback(view=ListView.MY_DEALS)),
        ("menu.button.office_deals", ListCallback(view=ListView.OFFICE_DEALS)),
    ],
    [("menu.button.queue", QueueCallback(action=QueueAction.LIST))],
]
_BUTTONS = {Role.EMPLOYEE: _MY, Role.SUPPORT: _MY, Role.MANAGER: _OFFICE, Role.ADMIN: _OFFICE}


def menu(role: Role | None) -> tuple[str, ...]:
    """The command names `role` sees (None: someone who is not an active employee)."""
    return MENUS[role]


def bot_commands(role: Role | None, t: Translator) -> list[BotCommand]:
    """The list for setMyCommands, described in `t`'s language."""
    return [BotCommand(command=name, description=t(f"menu.command.{name}")) for name in menu(role)]


def strangers_version() -> str:
    """Changes when the strangers' list or its texts change (a start-up re-sends it then)."""
    texts = [(n, Translator(loc)(f"menu.command.{n}")) for loc in ("ru", "en") for n in MENUS[None]]
    return hashlib.sha256(repr(texts).encode()).hexdigest()[:12]


def help_screen(role: Role | None, t: Translator, *, name: str | None = None) -> Screen:
    """What each of the role's commands does, and buttons for the main lists."""
    audience = role.value if role else "stranger"
    title = t(f"menu.title.{audience}", name=name or "")
    lines = [as_line(f"/{cmd}", " — ", _explain(cmd, role, t), end="") for cmd in menu(role)]
    hint = t(f"menu.hint.{audience}", default="")
    text = Text(Bold(title), "\n\n", as_list(*lines), *(("\n\n", hint) if hint else ()))
    rows = _BUTTONS[role] if role else []
    keyboard: list[list[Button]] = [[button(t(key), data) for key, data in row] for row in rows]
    return Screen.of(text, keyboard)


def _explain(command: str, role: Role | None, t: Translator) -> str:
    """A role may have its own words for a command (`menu.help.manager.leads`)."""
    general = t(f"menu.help.{command}")
    return t(f"menu.help.{role.value}.{command}", default=general) if role else general
