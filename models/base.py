"""Declarative base: naming convention, portable column types, timestamps."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from models.enums import Channel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone by itself)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware datetimes (services.clock)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,23}$")


class ChannelName(sa.TypeDecorator[str]):
    """A channel's name: one of `models.enums.Channel`, or a plug-in client channel's own
    name ("max", "vk"): a client channel is an adapter registered at start-up
    (services.conversations.channels), so adding one changes no enum and no schema.
    Stored as the short string the enum always was (VARCHAR(24)); read back as the enum
    member when it is one."""

    impl = sa.String(24)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        name = str(value.value if isinstance(value, enum.Enum) else value)
        if not _CHANNEL_NAME.match(name):
            raise ValueError(f"not a channel name: {name[:40]!r}")
        return name

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        from models.enums import Channel

        if value is None:
            return None
        return Channel(value) if value in Channel._value2member_map_ else value


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        Channel: ChannelName(),
        enum.Enum: sa.Enum(
            enum.Enum,
            native_enum=False,
            length=24,
            values_callable=lambda cls: [member.value for member in cls],
            validate_strings=True,
        ),
    }


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )
