"""company settings changed in the admin web (auto-reply, WhatsApp templates, escalation
thresholds, ticket categories), over the environment's

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "company_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["employees.id"], name="fk_company_settings_updated_by_id_employees"
        ),
        sa.PrimaryKeyConstraint("key", name="pk_company_settings"),
    )


def downgrade() -> None:
    op.drop_table("company_settings")
