"""Settings, read once at start from the environment and `.env` (see SPEC: Configuration).

Everything downstream receives plain values taken from here; tests build `Settings(...)` directly.
"""

from __future__ import annotations

import re
import secrets
from datetime import time
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/crm.sqlite3"
SUPPORTED_LOCALES = ("ru", "en")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
IPNetwork = IPv4Network | IPv6Network
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """A bad configuration value; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # Every Redis key and pub/sub channel starts with this, so deployments (and test runs)
    # can share one Redis without touching each other's state.
    redis_prefix: str = Field(default="crm", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    # Reverse proxies in front of the web server (addresses or networks, comma-separated).
    # Only a request from one of these has its X-Forwarded-For believed, to learn the client's
    # address (admin sign-in throttling is per address).
    trusted_proxies: str | None = None

    telegram_bot_token: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))

    whatsapp_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_api_base: str = "https://graph.facebook.com/v23.0"
    # Approved message templates (names, comma-separated) offered when the 24-hour window has
    # closed; and the Cloud API's send rate for the business number (80/s by default).
    whatsapp_templates: str = ""
    # What a client who writes after hours is answered (unset: the locale's text).
    auto_reply_text: str | None = None
    whatsapp_rate: float = Field(default=80.0, gt=0)

    mango_api_key: str | None = None
    mango_api_salt: str | None = None
    mango_api_base: str = "https://app.mango-office.ru/vpbx"  # commands (recording links)
    forms_token: str | None = None
    calls_token: str | None = None

    timezone: str = "Europe/Moscow"
    locale: str = "ru"
    default_region: str = "RU"
    currency: str = "RUB"
    digest_time: time = time(9, 0)
    # Escalations to the office's manager (services.escalations).
    escalate_task_minutes: int = Field(default=60, ge=1)
    escalate_response_minutes: int = Field(default=15, ge=1)
    escalate_deal_days: int = Field(default=7, ge=1)
    ticket_sla_minutes: int = Field(default=120, ge=1)
    # Support tickets' categories, comma-separated, in the order they are offered.
    ticket_categories: str = "Документы,Оплата,Техника,Доступы,Другое"

    # Outbox delivery limits (Telegram: ~30 msg/s overall, 1 msg/s per chat).
    telegram_global_rate: float = Field(default=30.0, gt=0)
    telegram_chat_interval: float = Field(default=1.0, ge=0)
    # A group chat (the team inbox) takes about 20 messages a minute (scheduler.rate_limit).
    telegram_group_rate: int = Field(default=20, ge=1)
    telegram_group_window: float = Field(default=60.0, gt=0)

    @field_validator(
        "redis_url",
        "public_url",
        "trusted_proxies",
        "telegram_bot_token",
        "whatsapp_token",
        "whatsapp_phone_number_id",
        "whatsapp_app_secret",
        "whatsapp_verify_token",
        "mango_api_key",
        "mango_api_salt",
        "forms_token",
        "calls_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ticket_categories")
    @classmethod
    def _ticket_categories(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            raise ValueError("must list at least one category, comma-separated")
        if len(names) > 30 or any(len(n) > 100 for n in names):
            raise ValueError("at most 30 categories of at most 100 characters")
        if len({n.casefold() for n in names}) != len(names):
            raise ValueError("a category is listed twice")
        return ",".join(names)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be sqlite+aiosqlite:///PATH or postgresql://USER@HOST/DB")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("public_url", "telegram_api_base", "whatsapp_api_base", "mango_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str | None) -> str | None:
        if value is not None:
            _networks(value)
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value is not None and not _TOKEN_RE.match(value.strip()):
            raise ValueError("must look like 123456:ABC-DEF (from @BotFather)")
        return value.strip() if value else value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        if not _SECRET_RE.match(value):
            raise ValueError("1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Moscow)") from exc
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("must be a two-letter region code such as RU")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError("must be a three-letter currency code such as RUB")
        return value.upper()

    @model_validator(mode="after")
    def _pairs(self) -> Settings:
        if bool(self.mango_api_key) != bool(self.mango_api_salt):
            raise ValueError("MANGO_API_KEY and MANGO_API_SALT must be set together")
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def proxy_networks(self) -> tuple[IPNetwork, ...]:
        return _networks(self.trusted_proxies) if self.trusted_proxies else ()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _networks(spec: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ip_network(part.strip(), strict=False) for part in spec.split(","))
    except ValueError as exc:
        raise ValueError("must be IP addresses or networks, e.g. 127.0.0.1,10.0.0.0/8") from exc


def load_settings(**overrides: object) -> Settings:
    """Read the settings or raise ConfigError naming the offending variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "configuration"
        message = error["msg"].removeprefix("Value error, ")
        name = field.upper() if field != "configuration" else field
        lines.append(f"{name}: {message}")
    return "invalid configuration: " + "; ".join(lines)
