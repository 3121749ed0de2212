"""The invariant every hostile input is held to, and the rig that checks it.

For every request: no 5xx; the answer is a 2xx or a JSON 4xx; a 4xx (and a Telegram update
answered "ignored") writes nothing to leads, clients, calls, inbound_events or the outbox; and
after the outbox pump has run against the fake Bot API, every lead has exactly one lead card
and every outbox row was accepted by the fake (sent, not dead), which is what proves each
message fits the Bot API's limits however hostile the data behind it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import ClientResponse

from models import Call, Client, InboundEvent, Lead, OutboxMessage, OutboxStatus
from services import notify
from tests.fakes.telegram_api import FakeTelegram

WATCHED = {
    "leads": Lead,
    "clients": Client,
    "calls": Call,
    "inbound_events": InboundEvent,
    "outbox": OutboxMessage,
}
FORMS_TOKEN, CALLS_TOKEN, TG_SECRET = "form-secret", "calls-secret", "tg-secret"
MANGO_KEY, MANGO_SALT = "vpbx-key-123", "vpbx-salt-456"


def mango_sign(body: str, key: str = MANGO_KEY, salt: str = MANGO_SALT) -> str:
    return hashlib.sha256((key + body + salt).encode("utf-8", "surrogatepass")).hexdigest()


def mango_form(body: str) -> dict[str, str]:
    return {"vpbx_api_key": MANGO_KEY, "sign": mango_sign(body), "json": body}


async def row_counts(db: Any) -> dict[str, int]:
    async with db.unit_of_work() as s:
        return {
            name: (await s.execute(sa.select(sa.func.count()).select_from(model))).scalar_one()
            for name, model in WATCHED.items()
        }


class Rig:
    """The product (web app, container, pump) with one on-duty employee bound to Telegram."""

    def __init__(
        self, web: Any, container: Any, fake_tg: FakeTelegram, examples: dict[str, int]
    ) -> None:
        self.web, self.container, self.fake_tg, self.examples = web, container, fake_tg, examples
        self.seeded = False  # a real lead exists, for generated button presses to hit

    def __repr__(self) -> str:  # hypothesis prints a failing example's arguments
        return "Rig(...)"

    async def exchange(
        self, name: str, send: Callable[[], Awaitable[ClientResponse]]
    ) -> tuple[int, Any]:
        """Send one hostile request and check the invariant; returns (status, JSON body)."""
        before = await row_counts(self.container.db)
        response = await send()
        status, raw = response.status, await response.read()
        shown = f"{name}: {status} {raw[:300]!r}"
        assert status < 500, shown
        body = json.loads(raw) if response.content_type == "application/json" else None
        outcome = f"{name} {status}" + (f" {body['status']}" if _has_status(body) else "")
        self.examples[outcome] = self.examples.get(outcome, 0) + 1
        if 400 <= status < 500:
            assert isinstance(body, dict) and body.get("error"), f"not a JSON 4xx: {shown}"
        if status >= 400 or (isinstance(body, dict) and body.get("status") == "ignored"):
            assert await row_counts(self.container.db) == before, f"wrote on {shown}"
        await self.cards_delivered(shown)
        return status, body

    async def cards_delivered(self, context: str = "") -> None:
        """Run the pump dry, then: one lead card per lead, every row accepted by the fake."""
        while await self.container.pump.run_once():
            pass
        async with self.container.db.unit_of_work() as s:
            leads = (await s.execute(sa.select(Lead.id))).scalars().all()
            rows = (await s.execute(sa.select(OutboxMessage))).scalars().all()
        cards: dict[int, int] = {}
        for row in rows:
            if row.kind == notify.LEAD_CARD and row.edit_of_id is None:
                lead_id = int(row.payload["lead_id"])
                cards[lead_id] = cards.get(lead_id, 0) + 1
        assert cards == dict.fromkeys(leads, 1), f"cards per lead {cards} ({context})"
        refused = [(r.kind, r.status, r.last_error) for r in rows if r.status != OutboxStatus.SENT]
        assert not refused, f"messages not accepted by the Bot API: {refused} ({context})"
        rejected = [
            (c.method, c.response)
            for c in self.fake_tg.requests
            if c.status not in (0, 200) and not _not_modified(c.response)
        ]
        assert not rejected, f"the bot sent requests Telegram refuses: {rejected} ({context})"


def _has_status(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("status"), str)


def _not_modified(response: Any) -> bool:
    """An edit that changes nothing: the sender counts it as done (bot/telegram/sender.py)."""
    return isinstance(response, dict) and "message is not modified" in str(
        response.get("description")
    )
