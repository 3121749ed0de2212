"""reports' monthly roll-up, and triggers that mark the days whose facts changed

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 01:00:00

A lead, call, deal or stage move whose day is more than two days old marks that UTC day in
`report_changes` when it is written, changed or deleted (on PostgreSQL once per statement and
day, from the statement's transition tables; on SQLite per row) (services/reports/rollup.py counts
the months around it again before any report reads them). Triggers, so that every writer
(services, the CLI, a bulk action, a hand-typed UPDATE) is caught; an update marks only when a
column a report counts changed. Changing the pipeline's stages, or truncating a counted table
(PostgreSQL), writes a mark that forgets every rolled-up month (a funnel counts positions).
Loading rows with triggers disabled (`session_replication_role = replica`) marks nothing:
run `crm job run roll_up_reports` after deleting `report_rollup_months` then.

On SQLite a later `batch_alter_table` of leads, calls, deals or deal_stage_changes recreates
the table without its triggers: such a migration must call `create_triggers` again
(tests/services/test_report_rollup.py checks the marks at head).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Amount = sa.Numeric(18, 2)

# table -> the moments (SQL over the row, "{r}" standing for OLD or NEW) whose days it counts in
MOMENTS: dict[str, dict[str, list[str]]] = {
    "postgresql": {
        "leads": ["{r}.created_at"],
        "calls": ["{r}.started_at", "{r}.started_at - interval '15 minutes'"],
        "deals": [
            "{r}.created_at",
            "{r}.closed_at",
            "(SELECT created_at FROM leads WHERE id = {r}.lead_id)",
        ],
        "deal_stage_changes": ["(SELECT created_at FROM deals WHERE id = {r}.deal_id)"],
    },
    "sqlite": {
        "leads": ["{r}.created_at"],
        "calls": ["{r}.started_at", "datetime({r}.started_at, '-15 minutes')"],
        "deals": [
            "{r}.created_at",
            "{r}.closed_at",
            "(SELECT created_at FROM leads WHERE id = {r}.lead_id)",
        ],
        "deal_stage_changes": ["(SELECT created_at FROM deals WHERE id = {r}.deal_id)"],
    },
}
OPS = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}
# the columns reports count: an update of any other (updated_at, a recording's URL) marks nothing
COUNTED = {
    "leads": [
        "created_at",
        "status",
        "source",
        "assignee_id",
        "office_id",
        "line_id",
        "utm_campaign",
        "first_response_work_seconds",
    ],
    "calls": ["started_at", "direction", "status", "employee_id", "line_id", "client_number"],
    "deals": [
        "created_at",
        "closed_at",
        "status",
        "amount",
        "cost",
        "owner_id",
        "office_id",
        "lead_id",
        "lost_reason",
        "pipeline_id",
        "stage_id",
    ],
    "deal_stage_changes": ["deal_id", "from_stage_id", "to_stage_id", "at"],
}
# A mark of this day forgets every rolled-up month (services/reports/rollup.EVERYTHING): stages
# changed (a funnel counts positions and kinds), or a counted table was truncated.
EVERYTHING = "1970-01-01"


def create_triggers(dialect: str) -> None:
    """Create (or, on PostgreSQL, replace) the marking triggers; a later migration that
    recreates one of these tables on SQLite must call it again."""
    if dialect == "postgresql":
        _create_pg_triggers()
        return
    for table, moments in MOMENTS["sqlite"].items():
        for op_name, rows in OPS.items():
            marks = " ".join(
                f"INSERT INTO report_changes (day) SELECT date({m.format(r=r)}) "
                f"WHERE {m.format(r=r)} < datetime('now', '-2 days');"
                for r in rows
                for m in moments
            )
            event = f"UPDATE OF {', '.join(COUNTED[table])}" if op_name == "UPDATE" else op_name
            name = f"report_mark_{table}_{op_name.lower()}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {marks} END")
    for op_name in OPS:
        name = f"report_forget_{op_name.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {op_name} ON pipeline_stages "
            f"BEGIN INSERT INTO report_changes (day) VALUES ('{EVERYTHING}'); END"
        )


def _create_pg_triggers() -> None:
    """Once per statement, over its transition tables: a bulk insert marks each day once, and
    an update marks only the rows whose counted columns changed."""
    for table, moments in MOMENTS["postgresql"].items():
        changed = " OR ".join(f"r.{c} IS DISTINCT FROM o.{c}" for c in COUNTED[table])
        for op_name, rows in OPS.items():
            selects = []
            for r in rows:
                source = f"{r.lower()}_rows r"
                if op_name == "UPDATE":
                    other = "new_rows" if r == "OLD" else "old_rows"
                    source += f" JOIN {other} o ON o.id = r.id WHERE {changed}"
                selects += [f"SELECT {m.format(r='r')} AS at FROM {source}" for m in moments]
            name = f"report_mark_{table}_{op_name.lower()}"
            op.execute(
                f"""
                CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO report_changes (day)
                  SELECT DISTINCT (at AT TIME ZONE 'UTC')::date
                  FROM ({" UNION ALL ".join(selects)}) moments
                  WHERE at < now() - interval '2 days';
                  RETURN NULL;
                END $$"""
            )
            tables = " ".join(f"{r} TABLE AS {r.lower()}_rows" for r in rows)
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(
                f"CREATE TRIGGER {name} AFTER {op_name} ON {table} REFERENCING {tables} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION report_forget() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO report_changes (day) VALUES (date '{EVERYTHING}'); RETURN NULL; END $$"""
    )
    op.execute("DROP TRIGGER IF EXISTS report_forget ON pipeline_stages")
    op.execute(
        "CREATE TRIGGER report_forget AFTER INSERT OR UPDATE OR DELETE ON pipeline_stages "
        "FOR EACH STATEMENT EXECUTE FUNCTION report_forget()"
    )
    for table in MOMENTS["postgresql"]:
        op.execute(f"DROP TRIGGER IF EXISTS report_forget_truncated ON {table}")
        op.execute(
            f"CREATE TRIGGER report_forget_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION report_forget()"
        )


def drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_forget ON pipeline_stages")
        for table in MOMENTS["postgresql"]:
            op.execute(f"DROP TRIGGER IF EXISTS report_forget_truncated ON {table}")
            for op_name in OPS:
                name = f"report_mark_{table}_{op_name.lower()}"
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute("DROP FUNCTION IF EXISTS report_forget()")
        return
    for op_name in OPS:
        op.execute(f"DROP TRIGGER IF EXISTS report_forget_{op_name.lower()}")
        for table in MOMENTS["sqlite"]:
            op.execute(f"DROP TRIGGER IF EXISTS report_mark_{table}_{op_name.lower()}")


def upgrade() -> None:
    op.create_table(
        "report_rollups",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("who", BigId, nullable=True),
        sa.Column("office_id", BigId, nullable=True),
        sa.Column("line_id", BigId, nullable=True),
        sa.Column("key1", sa.String(500), nullable=True),
        sa.Column("key2", sa.String(500), nullable=True),
        sa.Column("key3", sa.String(500), nullable=True),
        *[sa.Column(f"n{i}", sa.BigInteger(), nullable=False) for i in range(1, 5)],
        *[sa.Column(f"s{i}", Amount, nullable=False) for i in range(1, 5)],
        sa.PrimaryKeyConstraint("id", name="pk_report_rollups"),
    )
    op.create_index("ix_report_rollups_month", "report_rollups", ["zone", "family", "month"])
    op.create_table(
        "report_rollup_months",
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("zone", "month", name="pk_report_rollup_months"),
    )
    op.create_table(
        "report_changes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_changes"),
    )
    create_triggers(op.get_bind().dialect.name)


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_table("report_changes")
    op.drop_table("report_rollup_months")
    op.drop_index("ix_report_rollups_month", table_name="report_rollups")
    op.drop_table("report_rollups")
