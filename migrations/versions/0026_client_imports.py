"""client imports from CSV and XLSX: the uploaded rows, their mapping, dry run and outcome;
indexes for deleting clients

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "client_imports",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("mapping", JSON, nullable=False),
        sa.Column("matches", sa.String(16), nullable=False),
        sa.Column("owner_id", BigId, nullable=True),
        sa.Column("office_id", BigId, nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("undone_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["employees.id"], name="fk_client_imports_actor_id_employees"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["employees.id"], name="fk_client_imports_owner_id_employees"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_client_imports"),
    )
    op.create_index("ix_client_imports_at", "client_imports", ["at"])
    op.create_table(
        "client_import_rows",
        sa.Column("import_id", BigId, nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("cells", JSON, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("client_id", BigId, nullable=True),
        sa.Column("before", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["client_imports.id"],
            name="fk_client_import_rows_import_id_client_imports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "line", name="pk_client_import_rows"),
    )
    # Deleting clients (an import undone) checks who refers to them: by index, not by scan.
    op.create_index("ix_tickets_client_id", "tickets", ["client_id"])
    op.create_index(
        "ix_clients_merged_into_id",
        "clients",
        ["merged_into_id"],
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
        sqlite_where=sa.text("merged_into_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_clients_merged_into_id", table_name="clients")
    op.drop_index("ix_tickets_client_id", table_name="tickets")
    op.drop_table("client_import_rows")
    op.drop_index("ix_client_imports_at", table_name="client_imports")
    op.drop_table("client_imports")
