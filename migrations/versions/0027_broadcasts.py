"""broadcasts: the audience frozen per (broadcast, client), each message's broadcast, and an
index of unsettled bulk outbox rows

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 08:00:00
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BULK_UNSETTLED = "lane = 'bulk' AND status IN ('pending', 'failed', 'sending')"
CHANNEL = sa.Enum(
    "phone", "email", "whatsapp", "telegram", name="channel", native_enum=False, length=24
)


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("office_id", BigId, nullable=True),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template", sa.String(200), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("segment", JSON, nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("request_key", sa.String(64), nullable=True),
        sa.UniqueConstraint("request_key", name="uq_broadcasts_request_key"),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["employees.id"], name="fk_broadcasts_actor_id_employees"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
    )
    op.create_index("ix_broadcasts_at", "broadcasts", ["at"])
    op.create_table(
        "broadcast_recipients",
        sa.Column("broadcast_id", BigId, nullable=False),
        sa.Column("client_id", BigId, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=True),
        sa.Column("conversation_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name="fk_broadcast_recipients_broadcast_id_broadcasts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "client_id", name="pk_broadcast_recipients"),
    )
    # SQLite rebuilds the table, reflecting the tables it refers to (clients among them, whose
    # expression index SQLAlchemy cannot reflect and says so: nothing here needs it).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        with op.batch_alter_table("messages") as batch:
            batch.add_column(sa.Column("broadcast_id", BigId, nullable=True))
            batch.create_foreign_key(
                "fk_messages_broadcast_id_broadcasts", "broadcasts", ["broadcast_id"], ["id"]
            )
    op.create_index(
        "ix_messages_broadcast_id",
        "messages",
        ["broadcast_id", "status"],
        postgresql_where=sa.text("broadcast_id IS NOT NULL"),
        sqlite_where=sa.text("broadcast_id IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_bulk_due",
        "outbox",
        ["id"],
        postgresql_where=sa.text(BULK_UNSETTLED),
        sqlite_where=sa.text(BULK_UNSETTLED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_bulk_due", table_name="outbox")
    op.drop_index("ix_messages_broadcast_id", table_name="messages")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        with op.batch_alter_table("messages") as batch:
            batch.drop_constraint("fk_messages_broadcast_id_broadcasts", type_="foreignkey")
            batch.drop_column("broadcast_id")
    op.drop_table("broadcast_recipients")
    op.drop_index("ix_broadcasts_at", table_name="broadcasts")
    op.drop_table("broadcasts")
