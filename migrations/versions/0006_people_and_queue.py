"""employees: one PBX extension per employee

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Calls on a shared extension went to whichever holder the database returned first (in
    # practice the oldest): the oldest keeps it, the others lose it, so the constraint holds.
    op.execute(
        sa.text(
            "UPDATE employees SET extension = NULL WHERE extension IS NOT NULL AND id > "
            "(SELECT MIN(e2.id) FROM employees e2 WHERE e2.extension = employees.extension)"
        )
    )
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_employees_extension"), ["extension"])


def downgrade() -> None:
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_employees_extension"), type_="unique")
