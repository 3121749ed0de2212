"""Conversations run against both fakes: the Bot API and the Graph API (WhatsApp)."""

from __future__ import annotations

import pytest

from config.settings import Settings
from tests.conversations.support import with_both_fakes
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp


@pytest.fixture
def settings(
    db_url: str, fake_tg: FakeTelegram, fake_wa: FakeWhatsApp, redis_prefix: str
) -> Settings:
    return with_both_fakes(
        db_url, fake_tg, fake_wa, redis_prefix, templates="order_update,appointment_reminder"
    )
