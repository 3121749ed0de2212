"""support tickets: who took them and when, the record attached, closing, replies with a photo
or a file (kept by Telegram file_id), and finding a ticket by the message it was shown in

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 01:00:00

A reply in Telegram to a ticket's message is matched to the ticket through the outbox row that
delivered the message (its chat and provider message id): a partial index on the ticket rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by_id", _ID, nullable=True))
        batch.add_column(sa.Column("deal_id", _ID, nullable=True))
        batch.add_column(sa.Column("last_reply_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            "fk_tickets_closed_by_id_employees", "employees", ["closed_by_id"], ["id"]
        )
        batch.create_foreign_key("fk_tickets_deal_id_deals", "deals", ["deal_id"], ["id"])
        batch.create_index("ix_tickets_status_category", ["status", "category", "created_at"])
    with op.batch_alter_table("ticket_replies") as batch:
        batch.add_column(sa.Column("media_kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("file_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("file_name", sa.String(255), nullable=True))
    tickets = sa.text("entity_type = 'ticket'")
    op.create_index(
        "ix_outbox_ticket_messages",
        "outbox",
        ["recipient", "provider_message_id"],
        postgresql_where=tickets,
        sqlite_where=tickets,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_ticket_messages", table_name="outbox")
    with op.batch_alter_table("ticket_replies") as batch:
        batch.drop_column("file_name")
        batch.drop_column("file_id")
        batch.drop_column("media_kind")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_status_category")
        batch.drop_constraint("fk_tickets_deal_id_deals", type_="foreignkey")
        batch.drop_constraint("fk_tickets_closed_by_id_employees", type_="foreignkey")
        batch.drop_column("last_reply_at")
        batch.drop_column("deal_id")
        batch.drop_column("closed_by_id")
        batch.drop_column("closed_at")
        batch.drop_column("taken_at")
