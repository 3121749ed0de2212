"""Dialogs (aiogram FSM states): kept in Redis when REDIS_URL is set, so a restart keeps a
half-finished one, in memory otherwise (bot.telegram.factory).

A dialog nobody answered for DIALOG_TTL expires: the next update from that person clears it and
says so (bot.telegram.middlewares.DialogMiddleware), and a text they send then is not taken as
the answer. The middleware stamps `touched_at` into the FSM data after every update that leaves
a state set, so a plain `await state.set_state(MyDialog.name)` is all a handler needs;
`start_dialog` does the same in one call. /cancel ends any dialog (handlers.menu).

    await dialogs.start_dialog(state, NewClient.name, clock=company.clock, client_id=7)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State

from services.clock import Clock

DIALOG_TTL = timedelta(minutes=30)
TOUCHED_AT = "touched_at"  # FSM data key: when the person last did something in the dialog


async def start_dialog(state: FSMContext, step: State, *, clock: Clock, **data: Any) -> None:
    """Enter `step` with fresh `data` (JSON-safe values: ids and strings)."""
    await state.set_state(step)
    await state.set_data({**data, TOUCHED_AT: clock.now().isoformat()})


def expired(data: dict[str, Any], now: datetime) -> bool:
    """Was the dialog last touched more than DIALOG_TTL before `now`? (Unstamped: no.)"""
    touched = data.get(TOUCHED_AT)
    if not isinstance(touched, str):
        return False
    try:
        return now - datetime.fromisoformat(touched) > DIALOG_TTL
    except (ValueError, TypeError):  # not ours (a naive time can't be compared with `now`)
        return False
