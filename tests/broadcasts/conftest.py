"""Broadcasts run against both fakes: the Bot API and the Graph API (WhatsApp)."""

from __future__ import annotations

from typing import Any

import pytest

from config.settings import Settings
from services import leads
from services.actors import Actor
from tests import factories
from tests.admin_web.conftest import browser, shots  # noqa: F401 - Chromium, screenshots
from tests.conversations.support import with_both_fakes
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp


@pytest.fixture
def settings(
    db_url: str, fake_tg: FakeTelegram, fake_wa: FakeWhatsApp, redis_prefix: str
) -> Settings:
    return with_both_fakes(
        db_url, fake_tg, fake_wa, redis_prefix, templates="spring_sale,order_update:en"
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
