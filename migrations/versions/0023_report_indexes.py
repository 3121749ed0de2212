"""indexes for reports: deals by creation, closing and lead; calls by start

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_deals_created_at", "deals", ["created_at"])
    op.create_index("ix_deals_closed_at", "deals", ["closed_at"])
    op.create_index("ix_deals_lead_id", "deals", ["lead_id"])
    op.create_index("ix_calls_started_at", "calls", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_started_at", table_name="calls")
    op.drop_index("ix_deals_lead_id", table_name="deals")
    op.drop_index("ix_deals_closed_at", table_name="deals")
    op.drop_index("ix_deals_created_at", table_name="deals")
