"""bulk deletes keep the rows they take out (bulk_trash) until undo puts them back

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bulk_trash",
        sa.Column("operation_id", BigId, nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_id", BigId, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["bulk_operations.id"],
            name="fk_bulk_trash_operation_id_bulk_operations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation_id", "table_name", "row_id", name="pk_bulk_trash"),
    )


def downgrade() -> None:
    op.drop_table("bulk_trash")
