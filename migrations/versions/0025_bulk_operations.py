"""bulk operations of the admin web, with what each changed (for undo); tasks by deal;
deals by amount and by words of their titles; clients by name

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bulk_operations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "params", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("undo_until", UTC, nullable=False),
        sa.Column("undone_at", UTC, nullable=True),
        sa.Column("undone_by_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["employees.id"], name="fk_bulk_operations_actor_id_employees"
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["employees.id"], name="fk_bulk_operations_undone_by_id_employees"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bulk_operations"),
    )
    op.create_index("ix_bulk_operations_at", "bulk_operations", ["at"])
    op.create_index("ix_tasks_deal_id", "tasks", ["deal_id"])
    # The admin web's deal list: by amount, a page at a time; words of titles (trigrams).
    op.create_index("ix_deals_amount_id", "deals", [sa.text("coalesce(amount, 0)"), "id"])
    op.create_index("ix_clients_name_id", "clients", [sa.text("coalesce(search_text, '')"), "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_deals_title_trgm ON deals"
            " USING gin (translate(lower(title), 'ё', 'е') gin_trgm_ops)"
        )
    op.create_table(
        "bulk_operation_rows",
        sa.Column("operation_id", BigId, nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("holder_id", BigId, nullable=True),
        sa.Column("office_id", BigId, nullable=True),
        sa.Column("stage_id", BigId, nullable=True),
        sa.Column("status", sa.String(24), nullable=True),
        sa.Column("stage_changed_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("lost_reason", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["bulk_operations.id"],
            name="fk_bulk_operation_rows_operation_id_bulk_operations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "operation_id", "entity_type", "entity_id", name="pk_bulk_operation_rows"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_deal_id", table_name="tasks")
    op.drop_index("ix_deals_amount_id", table_name="deals")
    op.drop_index("ix_clients_name_id", table_name="clients")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_deals_title_trgm", table_name="deals")
    op.drop_table("bulk_operation_rows")
    op.drop_index("ix_bulk_operations_at", table_name="bulk_operations")
    op.drop_table("bulk_operations")
