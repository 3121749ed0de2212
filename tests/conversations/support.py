"""Helpers for conversation tests: post a signed notification, read what was stored."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models import Conversation, Message
from tests.chat import drain


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
