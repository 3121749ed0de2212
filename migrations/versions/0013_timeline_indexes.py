"""client timeline: (client, time) indexes for leads, tasks, deals, notes and messages

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03 12:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table's newest rows of one client, read by services.clients.timeline.
INDEXES = (
    ("ix_leads_client_created", "leads", ["client_id", "created_at"]),
    ("ix_tasks_client_created", "tasks", ["client_id", "created_at"]),
    ("ix_deals_client_created", "deals", ["client_id", "created_at"]),
    ("ix_notes_client_created", "notes", ["client_id", "created_at"]),
    ("ix_messages_conversation_created", "messages", ["conversation_id", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
