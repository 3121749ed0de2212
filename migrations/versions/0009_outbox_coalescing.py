"""outbox: coalesce groups (a chat's backlog of new-lead cards goes out as one digest)

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03 07:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coalesce_group", sa.String(length=50), nullable=True))
        batch_op.add_column(
            sa.Column(
                "coalesced_into_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_coalesced_into_id_outbox"),
            "outbox",
            ["coalesced_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_outbox_coalesced_into", ["coalesced_into_id"], unique=False)
    # Arrival cards already waiting may be coalesced too.
    op.execute(
        "UPDATE outbox SET coalesce_group = 'new_leads' "
        "WHERE kind = 'lead_card' AND edit_of_id IS NULL AND dedupe_key IS NOT NULL "
        "AND status IN ('pending', 'failed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_coalesced_into")
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_coalesced_into_id_outbox"), type_="foreignkey"
        )
        batch_op.drop_column("coalesced_into_id")
        batch_op.drop_column("coalesce_group")
