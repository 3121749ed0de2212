"""client conversations: the lead a conversation opened, quotes, staff copies of messages,
statuses that came early, and the client's broadcast opt-out

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("lead_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("display_name", sa.String(300), nullable=True))
        batch.create_foreign_key("fk_conversations_lead_id_leads", "leads", ["lead_id"], ["id"])
        batch.create_index("ix_conversations_assignee_id", ["assignee_id"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reply_to_id", BIG_ID, nullable=True))
        batch.create_foreign_key(
            "fk_messages_reply_to_id_messages",
            "messages",
            ["reply_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "message_copies",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_copies_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "telegram_message_id", name="pk_message_copies"),
    )
    op.create_index("ix_message_copies_message_id", "message_copies", ["message_id"])
    op.create_table(
        "early_statuses",
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("provider_message_id", sa.String(200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "pending",
                "sent",
                "delivered",
                "read",
                "failed",
                name="messagestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_early_statuses"),
        sa.UniqueConstraint(
            "channel",
            "provider_message_id",
            "status",
            name="uq_early_statuses_channel_provider_message_id_status",
        ),
    )


def downgrade() -> None:
    op.drop_table("early_statuses")
    op.drop_index("ix_message_copies_message_id", table_name="message_copies")
    op.drop_table("message_copies")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("opted_out_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_reply_to_id_messages", type_="foreignkey")
        batch.drop_column("reply_to_id")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_assignee_id")
        batch.drop_constraint("fk_conversations_lead_id_leads", type_="foreignkey")
        batch.drop_column("display_name")
        batch.drop_column("lead_id")
