"""new leads: a partial index the office's untaken-leads list is counted and paged from

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 23:20:00

A manager's list of the office's untaken leads (services.leads.lists) is oldest first and
counted whole. From the index of every lead's status it read a table page per new lead of
every office to count them, and walked the leads from the oldest ever to find the first new
one; the new leads alone, by id with their office, answer both from a small index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    new = sa.text("status = 'new'")
    op.create_index(
        "ix_leads_new", "leads", ["id", "office_id"], postgresql_where=new, sqlite_where=new
    )


def downgrade() -> None:
    op.drop_index("ix_leads_new", table_name="leads")
