"""team inbox: staff supergroups bound as inboxes, a forum topic per client, what each
topic already shows

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "team_inboxes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("office_id", BIG_ID, nullable=True),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("bound_by_id", BIG_ID, nullable=True),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("others_may_write", sa.Boolean(), server_default=sa.true(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name="fk_team_inboxes_office_id_offices"
        ),
        sa.ForeignKeyConstraint(
            ["bound_by_id"], ["employees.id"], name="fk_team_inboxes_bound_by_id_employees"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_team_inboxes"),
        sa.UniqueConstraint("chat_id", name="uq_team_inboxes_chat_id"),
        sa.UniqueConstraint("scope", name="uq_team_inboxes_scope"),
    )
    op.create_table(
        "team_topics",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", BIG_ID, nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("card_hash", sa.String(64), nullable=True),
        sa.Column("owner_id", BIG_ID, nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name="fk_team_topics_client_id_clients",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["employees.id"], name="fk_team_topics_owner_id_employees"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_team_topics"),
        sa.UniqueConstraint("chat_id", "client_id", name="uq_team_topics_chat_id_client_id"),
    )
    op.create_index("ix_team_topics_client_id", "team_topics", ["client_id"])
    op.create_index("ix_team_topics_chat_thread", "team_topics", ["chat_id", "thread_id"])
    op.create_table(
        "team_shown",
        sa.Column("topic_id", BIG_ID, nullable=False),
        sa.Column("message_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["team_topics.id"],
            name="fk_team_shown_topic_id_team_topics",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_team_shown_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "message_id", name="pk_team_shown"),
    )


def downgrade() -> None:
    op.drop_table("team_shown")
    op.drop_index("ix_team_topics_chat_thread", table_name="team_topics")
    op.drop_index("ix_team_topics_client_id", table_name="team_topics")
    op.drop_table("team_topics")
    op.drop_table("team_inboxes")
