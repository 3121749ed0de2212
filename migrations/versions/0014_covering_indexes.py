"""covering indexes: whose clients a search starts from, and deal totals per stage

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 18:30:00

An employee's word search starts from their own clients (owned, or whose lead or deal is
theirs: services.clients.visibility.among_own); with the client id in the owner and
assignee indexes these are read from the indexes alone instead of one table page per row. The
office's deal totals per stage (services.deals.views.by_stage) are summed from an index of
(office, stage) carrying the amount. On SQLite the indexes stay as they were (it has no
INCLUDE).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name, table, key columns, (before, after) included columns
REBUILT = (
    ("ix_leads_assignee_status", "leads", ["assignee_id", "status"], ["client_id"]),
    ("ix_deals_owner_status", "deals", ["owner_id", "status"], ["client_id"]),
    ("ix_clients_owner_id", "clients", ["owner_id"], ["id"]),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        for name, table, columns, include in REBUILT:
            op.drop_index(name, table_name=table)
            op.create_index(name, table, columns, postgresql_include=include)
    op.create_index(
        "ix_deals_office_stage", "deals", ["office_id", "stage_id"], postgresql_include=["amount"]
    )


def downgrade() -> None:
    op.drop_index("ix_deals_office_stage", table_name="deals")
    if _postgresql():
        for name, table, columns, _include in reversed(REBUILT):
            op.drop_index(name, table_name=table)
            op.create_index(name, table, columns)
