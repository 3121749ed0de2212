"""Failed admin sign-ins, counted per (login, client address) and per address."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# The `login` of the per-address row: no real login is empty (logins are stripped, 1-64 chars).
ANY_LOGIN = ""


class LoginThrottle(Base):
    """One row per (login, address) pair, plus one per address with `login` = ANY_LOGIN.

    Rows are shared by every web process; a success or `crm admin unlock` deletes them.
    """

    __tablename__ = "login_throttles"

    login: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    # No attempt for this row is even checked before this moment.
    blocked_until: Mapped[datetime | None]
