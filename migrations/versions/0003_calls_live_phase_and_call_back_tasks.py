"""calls: phase, outside number, recording id; call-back tasks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:47:00.641751
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_number", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "phase",
                sa.Enum(
                    "ringing", "talking", "ended", name="callphase", native_enum=False, length=24
                ),
                server_default="ringing",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("summarized_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "legs",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default="{}",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("recording_id", sa.String(length=200), nullable=True))
        batch_op.create_index(
            "ix_calls_number_started", ["client_number", "started_at"], unique=False
        )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tasks_call_id_calls"), "calls", ["call_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tasks_call_id_calls"), type_="foreignkey")
        batch_op.drop_column("call_id")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_number_started")
        batch_op.drop_column("recording_id")
        batch_op.drop_column("legs")
        batch_op.drop_column("summarized_at")
        batch_op.drop_column("phase")
        batch_op.drop_column("client_number")
