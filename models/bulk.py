"""Bulk changes made in the admin web (services/bulk): one row per operation, and one per
record it changed with what the record held before, so the whole operation can be undone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin


class BulkOperation(IdMixin, Base):
    __tablename__ = "bulk_operations"

    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("employees.id"))
    entity_type: Mapped[str] = mapped_column(sa.String(32))  # what was chosen: "deal"
    action: Mapped[str] = mapped_column(sa.String(32))  # "reassign"
    count: Mapped[int] = mapped_column(sa.Integer)  # records of `entity_type` changed
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the action's own values
    undo_until: Mapped[datetime]
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("employees.id"))


class BulkOperationRow(Base):
    """A record the operation changed (the chosen ones and those it carried along, such as a
    deal's open tasks) and its values before; undo puts back only what still holds the
    operation's values."""

    __tablename__ = "bulk_operation_rows"

    operation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("bulk_operations.id", ondelete="CASCADE"), primary_key=True
    )
    entity_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    entity_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    holder_id: Mapped[int | None] = mapped_column(BigId)  # owner or assignee before
    office_id: Mapped[int | None] = mapped_column(BigId)  # office before
    # A deal moved to another stage (or closed): where it stood before.
    stage_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str | None] = mapped_column(sa.String(24))
    stage_changed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    lost_reason: Mapped[str | None] = mapped_column(sa.String(500))


class BulkTrash(Base):
    """A row a bulk delete took out of its table (services.bulk.deleting), every column as
    JSON, until undo puts it back; for a row only unlinked (a ticket about a deleted deal) the
    link it had."""

    __tablename__ = "bulk_trash"

    operation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("bulk_operations.id", ondelete="CASCADE"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    row_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
