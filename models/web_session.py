"""Admin web sessions, kept server-side so any web process can check them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow


class WebSession(Base):
    __tablename__ = "web_sessions"

    # sha256 of the cookie value: a leaked table does not hand out live sessions.
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    employee_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
