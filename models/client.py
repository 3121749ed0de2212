"""Clients (people or companies), their contact persons and channel identities.

One person is one client: every phone, e-mail, WhatsApp id and Telegram id is a
`ChannelIdentity`, unique per (channel, normalised address), pointing at one client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import Channel, ClientKind


def trigram_index(name: str, column: str) -> sa.Index:
    """A pg_trgm GIN index (substring LIKE), on PostgreSQL only: SQLite has no such index and
    scans, which is fine at its scale. Migration 0011 creates the extension."""
    index = sa.Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
    return index.ddl_if(dialect="postgresql")


class Client(IdMixin, TimestampMixin, Base):
    __tablename__ = "clients"
    # /find matches words anywhere in search_text (LIKE '%word%'): trigrams on PostgreSQL.
    # An employee's own clients, and their search text, are read from the owner index alone
    # (migrations 0014, 0015; services.clients.visibility.own_matching).
    __table_args__ = (
        trigram_index("ix_clients_search_text_trgm", "search_text"),
        sa.Index(
            "ix_clients_owner_id",
            "owner_id",
            postgresql_include=["id", "merged_into_id", "search_text"],
        ),
    )

    kind: Mapped[ClientKind] = mapped_column(default=ClientKind.PERSON)
    name: Mapped[str | None] = mapped_column(sa.String(300))
    # The company a person works for (or a company client's legal name), as typed.
    company: Mapped[str | None] = mapped_column(sa.String(300))
    # Lower-cased name, company and contact persons' names, maintained by services.clients:
    # what /find matches words against (SQLite's lower() knows no Cyrillic).
    search_text: Mapped[str | None] = mapped_column(sa.String(1000))
    owner_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"))
    # Set when this client was merged into another; the row stays for history.
    merged_into_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("clients.id"))
    # The client asked for no broadcasts ("STOP" on any channel): broadcasts leave them out.
    opted_out_at: Mapped[datetime | None]

    contacts: Mapped[list[ContactPerson]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )
    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )


# The admin web's client list sorted by name (services.clients.lists), a page at a time by key.
sa.Index("ix_clients_name_id", sa.func.coalesce(Client.search_text, ""), Client.id)
# Who was merged into a client: the foreign key's check when a client is deleted (an import
# undone), which otherwise reads every client for each one deleted.
sa.Index(
    "ix_clients_merged_into_id",
    Client.merged_into_id,
    postgresql_where=Client.merged_into_id.is_not(None),
    sqlite_where=Client.merged_into_id.is_not(None),
)


class ClientTag(Base):
    __tablename__ = "client_tags"
    __table_args__ = (sa.Index("ix_client_tags_tag", "tag"),)

    client_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class ClientMerge(IdMixin, Base):
    """One client merged into another: what moved, so that it can be undone exactly."""

    __tablename__ = "client_merges"

    survivor_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    merged_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("clients.id"), index=True)
    by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    at: Mapped[datetime]
    undone_at: Mapped[datetime | None]
    # {"leads": [ids], "deals": [...], ...} moved from merged to survivor, and the two
    # clients' fields before the merge.
    moved: Mapped[dict[str, Any]] = mapped_column(default=dict)
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ContactPerson(IdMixin, TimestampMixin, Base):
    __tablename__ = "contact_persons"

    client_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(sa.String(300))
    position: Mapped[str | None] = mapped_column(sa.String(200))
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    client: Mapped[Client] = relationship(back_populates="contacts")


class ChannelIdentity(IdMixin, TimestampMixin, Base):
    __tablename__ = "channel_identities"
    __table_args__ = (
        sa.UniqueConstraint("channel", "address"),
        # /find by the last digits of a phone (LIKE '%0011122').
        trigram_index("ix_channel_identities_address_trgm", "address"),
    )

    client_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    contact_person_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("contact_persons.id", ondelete="SET NULL")
    )
    channel: Mapped[Channel]
    # Normalised: E.164 for phones and WhatsApp, lower-case e-mail, numeric Telegram id.
    address: Mapped[str] = mapped_column(sa.String(320))

    client: Mapped[Client] = relationship(back_populates="identities")
