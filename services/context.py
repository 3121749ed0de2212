"""The plain company-wide values services need (taken from settings once, at the edge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from services.clock import Clock, SystemClock


@dataclass(frozen=True)
class EscalationRules:
    """When waiting becomes the manager's business (services.escalations)."""

    task_minutes: int = 60  # a task overdue by more than this
    response_minutes: int = 15  # a lead without a first response, in working time
    deal_days: int = 7  # a deal unchanged in its stage (stages may say otherwise)
    ticket_minutes: int = 120  # a support ticket unanswered


@dataclass(eq=False)
class Company:
    """One object per process, shared by everything in it (the bot's middleware, the jobs, the
    pump, the web). The settings an admin may change in the web panel (`ticket_categories`,
    `auto_reply`, `escalations`) are replaced in place by services.company_settings, so
    every holder sees the change; the rest is read once at start."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    region: str = "RU"
    locale: str = "ru"
    currency: str = "RUB"
    clock: Clock = field(default_factory=SystemClock)
    ticket_categories: tuple[str, ...] = ("Документы", "Оплата", "Техника", "Доступы", "Другое")
    auto_reply: str | None = None  # to clients who write after hours (None: the locale's text)
    digest_time: time = time(9, 0)  # when each employee's daily digest goes, in their zone
    escalations: EscalationRules = field(default_factory=EscalationRules)
