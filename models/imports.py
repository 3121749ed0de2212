"""Client imports from CSV and XLSX (services/imports): the uploaded rows as typed, how their
columns map to a client's fields, what a dry run found each row to be, and what applying it
did, so the whole import can be undone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin


class ClientImport(IdMixin, Base):
    __tablename__ = "client_imports"

    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"names": [...]}
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)  # column index → field
    matches: Mapped[str] = mapped_column(sa.String(16), default="skip")  # skip, update, create
    owner_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    # A manager's import stays within their office: another office's clients are not touched.
    office_id: Mapped[int | None] = mapped_column(BigId)
    error: Mapped[str | None] = mapped_column(sa.String(500))  # why a run stopped ("failed")
    status: Mapped[str] = mapped_column(sa.String(16), default="uploaded")
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # by outcome
    undone_at: Mapped[datetime | None]


class ClientImportRow(Base):
    """One data row of the file (`line`: its line in the file, the header is line 1)."""

    __tablename__ = "client_import_rows"

    import_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("client_imports.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(primary_key=True)
    cells: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"v": [...]} as typed
    # The dry run's verdict (new, matched, joined: a company's later row, invalid) and then what
    # was done (created, updated, joined, skipped); why, for an invalid row ("joins:N" for a
    # joined one); the client found or made; `before`: what undo puts back or removes.
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    client_id: Mapped[int | None] = mapped_column(BigId)
    before: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # an updated client's
