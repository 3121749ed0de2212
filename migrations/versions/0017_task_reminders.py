"""tasks: reminders that fire once (the next moment, the last one, a count), an earlier
warning, comments on a task

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 01:00:00

`remind_at` is the next moment a reminder is due (a warning, the due time, or a snooze) and
is cleared or moved in the transaction that writes the reminder to the outbox, so one reminder
fires once however many schedulers look. Call-back tasks, whose card was their reminder, had
`remind_at` set at creation and nothing read it: it is cleared, so they do not all fire at once
after the upgrade. A comment on a task is a note with `task_id`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("warn_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(sa.text("UPDATE tasks SET remind_at = NULL WHERE kind = 'call_back'"))
    due = sa.text("status = 'open' AND remind_at IS NOT NULL")
    op.create_index(
        "ix_tasks_remind_due", "tasks", ["remind_at"], postgresql_where=due, sqlite_where=due
    )
    with op.batch_alter_table("notes") as batch:
        batch.add_column(
            sa.Column(
                "task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch.create_foreign_key("fk_notes_task_id_tasks", "tasks", ["task_id"], ["id"])
        batch.create_index("ix_notes_task_id", ["task_id"])


def downgrade() -> None:
    with op.batch_alter_table("notes") as batch:
        batch.drop_index("ix_notes_task_id")
        batch.drop_constraint("fk_notes_task_id_tasks", type_="foreignkey")
        batch.drop_column("task_id")
    op.drop_index("ix_tasks_remind_due", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("reminders_sent")
        batch.drop_column("reminded_at")
        batch.drop_column("warn_minutes")
