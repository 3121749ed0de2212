"""Company settings an admin changes in the web panel, over the environment's values: the
after-hours auto-reply, the approved WhatsApp templates, the escalation thresholds, the
support tickets' categories.

Each saved setting is a row of `company_settings`; `refresh` puts the saved values into the
process's `Company` (and the WhatsApp channel's rules) in place, so the bot, the jobs and the
pump see them. The web process refreshes right after saving; every process refreshes every
REFRESH seconds (`keep_fresh`), so a change is in force everywhere within that.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import CompanySetting
from models.db import Database
from services import access, audit
from services.access import HasRole
from services.context import Company, EscalationRules
from services.conversations import channels
from services.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)
REFRESH = 10.0  # seconds
AUTO_REPLY_LIMIT = 1000
_TEMPLATE = re.compile(r"^[a-z0-9_]{1,512}(:[a-z]{2,3}(_[A-Z]{2})?)?$")
# (setting, lowest, highest)
BOUNDS = {
    "task_minutes": (1, 10_080),
    "response_minutes": (1, 1_440),
    "deal_days": (1, 365),
    "ticket_minutes": (1, 10_080),
}


@dataclass(frozen=True)
class Editable:
    auto_reply: str | None
    whatsapp_templates: tuple[str, ...]
    ticket_categories: tuple[str, ...]
    escalations: EscalationRules


def current(company: Company) -> Editable:
    """What is in force in this process."""
    return Editable(
        company.auto_reply,
        channels.rules_of("whatsapp").templates,
        company.ticket_categories,
        company.escalations,
    )


def _require(by: HasRole) -> None:
    if not access.can_edit_settings(by):
        raise NotFound("only admins change settings", key="web.not_found")


def checked(
    *,
    auto_reply: str,
    whatsapp_templates: str,
    ticket_categories: str,
    escalations: dict[str, int],
) -> Editable:
    """The form's values as settings, or InvalidInput naming what is wrong."""
    reply = auto_reply.strip()
    if len(reply) > AUTO_REPLY_LIMIT:
        raise InvalidInput("too long", key="settings.auto_reply_long", limit=AUTO_REPLY_LIMIT)
    templates = tuple(dict.fromkeys(_lines(whatsapp_templates)))
    for name in templates:
        if not _TEMPLATE.match(name):
            raise InvalidInput("not a template name", key="settings.bad_template", name=name[:60])
    if len(templates) > 50:
        raise InvalidInput("too many", key="settings.too_many_templates", limit=50)
    categories = _lines(ticket_categories)
    if not 1 <= len(categories) <= 30 or any(len(c) > 100 for c in categories):
        raise InvalidInput("1 to 30 categories", key="settings.bad_categories")
    if len({c.casefold() for c in categories}) != len(categories):
        raise InvalidInput("the same category twice", key="settings.bad_categories")
    for name, (low, high) in BOUNDS.items():
        value = escalations.get(name)
        if value is None or not low <= value <= high:
            raise InvalidInput("out of bounds", key="settings.bad_threshold", low=low, high=high)
    return Editable(
        reply or None,
        templates,
        tuple(categories),
        EscalationRules(**{name: escalations[name] for name in BOUNDS}),
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


async def save(
    session: AsyncSession, new: Editable, *, by: HasRole, company: Company, now: datetime
) -> list[str]:
    """Write the settings (those that differ from what is in force); the names changed,
    audited with before and after."""
    _require(by)
    before = current(company)
    changed = {
        name: _plain(getattr(new, name))
        for name in ("auto_reply", "whatsapp_templates", "ticket_categories", "escalations")
        if getattr(new, name) != getattr(before, name)
    }
    for name, value in changed.items():
        row = await session.get(CompanySetting, name)
        if row is None:
            session.add(
                CompanySetting(
                    key=name, value={"value": value}, updated_at=now, updated_by_id=by.id
                )
            )
        else:
            row.value, row.updated_at, row.updated_by_id = {"value": value}, now, by.id
    if changed:
        await session.flush()
        await audit.log(
            session,
            action="settings.changed",
            entity_type="settings",
            entity_id=None,
            at=now,
            actor_id=by.id,
            actor_kind="employee",
            changes={
                name: [_plain(getattr(before, name)), value] for name, value in changed.items()
            },
        )
    return sorted(changed)


def _plain(value: Any) -> Any:
    if isinstance(value, EscalationRules):
        return asdict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


async def refresh(session: AsyncSession, company: Company) -> None:
    """Put the saved settings into `company` and the WhatsApp channel's rules, in place."""
    rows = (await session.execute(sa.select(CompanySetting.key, CompanySetting.value))).all()
    saved = {key: value.get("value") for key, value in rows}
    if "auto_reply" in saved:
        company.auto_reply = saved["auto_reply"] or None
    if saved.get("ticket_categories"):
        company.ticket_categories = tuple(saved["ticket_categories"])
    if "escalations" in saved and isinstance(saved["escalations"], dict):
        known = {k: int(v) for k, v in saved["escalations"].items() if k in BOUNDS}
        company.escalations = replace(company.escalations, **known)
    if "whatsapp_templates" in saved:
        rules = channels.rules_of("whatsapp")
        templates = tuple(saved["whatsapp_templates"] or ())
        if rules.templates != templates:
            channels.register(replace(rules, templates=templates))


async def keep_fresh(db: Database, company: Company, *, every: float | None = None) -> None:
    """Refresh every `every` seconds (REFRESH, read when it starts), for as long as the
    process runs."""
    every = REFRESH if every is None else every
    while True:
        try:
            async with db.unit_of_work() as session:
                await refresh(session, company)
        except Exception as exc:  # the database is away: the settings in force stay
            log.warning("company settings not refreshed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(every)
