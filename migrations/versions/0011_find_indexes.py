"""find: trigram indexes for client search (PostgreSQL only)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Words anywhere in a client's name/company/contacts, and the last digits of a phone, are
# LIKE '%…%' searches: a pg_trgm GIN index answers them without scanning every client.
# SQLite has no such index; it scans (fine at its scale), so nothing is done there.
INDEXES = (
    ("ix_clients_search_text_trgm", "clients", "search_text"),
    ("ix_channel_identities_address_trgm", "channel_identities", "address"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(
            name,
            table,
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    # The extension stays: other objects may use it, and it is harmless.
