"""Clients (people or companies), their contact persons and channel identities.

One person is one client: every phone, e-mail, WhatsApp id and Telegram id is a
`ChannelIdentity`, unique per (channel, normalised address), pointing at one client.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin
from models.enums import Channel, ClientKind


class Client(IdMixin, TimestampMixin, Base):
    __tablename__ = "clients"

    kind: Mapped[ClientKind] = mapped_column(default=ClientKind.PERSON)
    name: Mapped[str | None] = mapped_column(sa.String(300))
    owner_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"))
    # Set when this client was merged into another; the row stays for history.
    merged_into_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("clients.id"))

    contacts: Mapped[list[ContactPerson]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )
    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )


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
    __table_args__ = (sa.UniqueConstraint("channel", "address"),)

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
