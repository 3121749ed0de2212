"""The bot's update handling against generated updates fed straight to the dispatcher (as
long polling does): structurally valid Telegram updates with hostile values, from strangers
and from the on-duty employee, pressing real, stale and forged buttons. Handling never raises,
every request the bot makes is one Telegram accepts, and every lead keeps exactly one card."""

from __future__ import annotations

import pytest
from aiogram.types import Update
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.leads import intake
from tests.hostile import strategies as hs
from tests.hostile.support import Rig

UPDATE_KINDS = ("message", "edited_message", "callback_query", "my_chat_member")
# An update without a known event is logged by aiogram with this warning, and handled.
pytestmark = pytest.mark.filterwarnings("ignore:Detected unknown update type")


async def _a_lead(rig: Rig) -> None:
    """A real lead and its delivered card, so generated presses can hit a real button."""
    async with rig.container.db.unit_of_work() as s:
        await intake.register_incoming(
            s,
            intake.LeadIn(source="form:site", name="Иван", phone="+79120001122"),
            company=rig.container.company,
        )
    await rig.cards_delivered("setup")


@given(update=hs.tg_update(), data=st.data())
async def test_generated_updates_fed_to_the_dispatcher(
    rig: Rig, update: object, data: st.DataObject
) -> None:
    if not rig.seeded:
        await _a_lead(rig)
        rig.seeded = True
    container = rig.container
    try:
        parsed = Update.model_validate(update, context={"bot": container.bot})
    except ValidationError:
        rig.examples["dispatcher: not an Update"] = (
            rig.examples.get("dispatcher: not an Update", 0) + 1
        )
        return
    await container.dispatcher.feed_update(container.bot, parsed)  # must not raise
    kind = next((k for k in UPDATE_KINDS if getattr(parsed, k, None) is not None), "other")
    rig.examples[f"dispatcher: {kind}"] = rig.examples.get(f"dispatcher: {kind}", 0) + 1
    await rig.cards_delivered(f"update {update!r}"[:500])
