"""leads: the first response's time inside the responder's working hours (for reports)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("first_response_work_seconds", sa.Integer(), nullable=True))
    # Responses recorded before: their wall-clock time is the best there is.
    op.execute(
        "UPDATE leads SET first_response_work_seconds = first_response_seconds "
        "WHERE first_response_seconds IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("first_response_work_seconds")
