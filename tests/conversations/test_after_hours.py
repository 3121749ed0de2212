"""After hours a client is answered by the auto-reply (once), and the conversation waits for
whoever comes on shift: its lead waits in the queue and goes to the first one on duty."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from models import Lead
from scheduler import jobs
from tests import factories
from tests.chat import Chat, drain
from tests.conftest import MSK
from tests.conversations.support import post

SATURDAY_NIGHT = datetime(2025, 12, 6, 23, 0, tzinfo=MSK)
MONDAY_9_05 = datetime(2025, 12, 8, 9, 5, tzinfo=MSK)


async def test_a_client_writing_at_night_gets_the_auto_reply_once_and_is_handed_out_in_the_morning(
    web, container, fake_wa, fake_tg, clock
):
    clock.set(SATURDAY_NIGHT)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", shifts=factories.WEEKDAYS_9_TO_18)
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте, вы работаете?"))
    await post(web, fake_wa, fake_wa.text("79120001122", "Ау"))
    auto = [s.body["text"]["body"] for s in fake_wa.sent]
    assert auto == ["Спасибо за сообщение! Сейчас нерабочее время — мы ответим в рабочие часы."]
    chat = Chat(container, fake_tg, anna)
    assert chat.messages == []  # nobody is woken at night
    clock.set(MONDAY_9_05)
    await jobs.run(jobs.by_name("hand_out_queue"), container.db, container.company)
    await drain(container)
    assert "Здравствуйте, вы работаете?" in chat.messages[0]["text"]
    async with container.db.unit_of_work() as s:
        lead = (await s.execute(sa.select(Lead))).scalar_one()
    assert lead.assignee_id == anna.id
