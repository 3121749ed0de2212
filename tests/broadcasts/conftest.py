"""Broadcasts run against both fakes: the Bot API and the Graph API (WhatsApp)."""

from __future__ import annotations

from typing import Any

import pytest

from config.settings import Settings
from services import leads
from services.actors import Actor
from tests import factories
from tests.admin_web.conftest import browser, shots  # noqa: F401 - Chromium, screenshots
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp


@pytest.fixture
def settings(
    db_url: str, fake_tg: FakeTelegram, fake_wa: FakeWhatsApp, redis_prefix: str
) -> Settings:
    return Settings(
        _env_file=None,
        database_url=db_url,
        telegram_bot_token=fake_tg.token,  # type: ignore[call-arg]
        telegram_api_base=fake_tg.base_url,
        telegram_webhook_secret="tg-secret",
        forms_token="form-secret",
        whatsapp_token=fake_wa.token,
        whatsapp_phone_number_id=fake_wa.phone_number_id,
        whatsapp_app_secret=fake_wa.app_secret,
        whatsapp_verify_token="wa-verify",
        whatsapp_api_base=fake_wa.base_url,
        whatsapp_templates="spring_sale,order_update:en",
        redis_prefix=redis_prefix,
        telegram_global_rate=1000,
        telegram_chat_interval=0,
    )


async def admin(container: Any, **fields: Any) -> Actor:
    async with container.db.unit_of_work() as s:
        person = await factories.employee(s, container.company.clock, **fields)
        return Actor.of(person)


async def client_by_form(container: Any, phone: str, name: str, source: str = "form:site") -> int:
    """A client as a site form makes one: a phone, a lead from `source`, no chat."""
    async with container.db.unit_of_work() as s:
        found = await leads.register_incoming(
            s, leads.LeadIn(source=source, phone=phone, name=name), company=container.company
        )
    assert found.client_id is not None
    return found.client_id
