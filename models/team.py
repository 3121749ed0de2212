"""The team inbox: a staff supergroup with forum topics, one topic per client.

An admin binds a group (`/bind_team`) as the inbox of an office or of the whole company; each
client of that scope gets a topic in it, opened by their first message, call or form. What the
topic shows is kept in step with the client's history by the outbox (services.team).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin

COMPANY_SCOPE = "company"


class TeamInbox(IdMixin, TimestampMixin, Base):
    __tablename__ = "team_inboxes"

    chat_id: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    # COMPANY_SCOPE or "office:<id>": one inbox per office, or one for the whole company.
    scope: Mapped[str] = mapped_column(sa.String(40), unique=True)
    office_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("offices.id"))
    title: Mapped[str | None] = mapped_column(sa.String(255))
    bound_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    locale: Mapped[str] = mapped_column(sa.String(8), default="ru")  # what the topics say
    # May employees other than a client's owner answer them from the topic?
    others_may_write: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class TeamTopic(IdMixin, TimestampMixin, Base):
    """A client's topic in an inbox's group; `thread_id` None: (re)created by its next step."""

    __tablename__ = "team_topics"
    __table_args__ = (
        sa.UniqueConstraint("chat_id", "client_id"),
        # a message typed in a topic finds its client
        sa.Index("ix_team_topics_chat_thread", "chat_id", "thread_id"),
    )

    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    client_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    thread_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    name: Mapped[str | None] = mapped_column(sa.String(128))  # as last set in Telegram
    card_message_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # pinned, edited in place
    card_hash: Mapped[str | None] = mapped_column(sa.String(64))  # of the card as last shown
    # Who pressed Take (the first press wins: a conditional update on this column).
    owner_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    claimed_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]  # of the current thread; messages before it are history


class TeamShown(Base):
    """A message of the client already in their topic (mirrored there, or typed there)."""

    __tablename__ = "team_shown"

    topic_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("team_topics.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
