"""Company settings an admin changes in the web panel (services.company_settings): one row
per setting, its value as JSON; a setting with no row keeps the environment's value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId


class CompanySetting(Base):
    __tablename__ = "company_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()  # {"value": ...}
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
