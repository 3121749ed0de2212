"""Helpers for conversation tests: post a signed notification, read what was stored."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from config.settings import Settings
from models import Conversation, Message
from tests.chat import drain
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp


async def post(web: Any, fake_wa: Any, *items: Any, statuses: Any = None, status: int = 200) -> Any:
    """Post a signed notification (messages and statuses) and let the outbox deliver."""
    body, headers = fake_wa.notification(*items, statuses=statuses)
    response = await web.post("/webhooks/whatsapp", data=body, headers=headers)
    assert response.status == status, await response.text()
    await drain(_container(web))
    return response


def _container(web: Any) -> Any:
    from web_app import CONTAINER

    return web.server.app[CONTAINER]


async def messages(container: Any) -> list[Message]:
    async with container.db.unit_of_work() as s:
        return list((await s.execute(sa.select(Message).order_by(Message.id))).scalars())


async def conversations(container: Any) -> list[Conversation]:
    async with container.db.unit_of_work() as s:
        return list((await s.execute(sa.select(Conversation).order_by(Conversation.id))).scalars())


def with_both_fakes(
    db_url: str, fake_tg: FakeTelegram, fake_wa: FakeWhatsApp, redis_prefix: str, *, templates: str
) -> Settings:
    """Settings for the product against the fake Bot API and the fake Graph API."""
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
        whatsapp_templates=templates,
        redis_prefix=redis_prefix,
        telegram_global_rate=1000,
        telegram_chat_interval=0,
    )
