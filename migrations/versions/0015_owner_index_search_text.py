"""the owner index carries the search text: an employee's word search reads no table pages

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 23:00:00

An employee's word search tests their own clients' search text (services.clients.visibility
.own_matching); with the text (and whether the client was merged) in the owner index,
PostgreSQL answers it from the index alone. A B-tree entry must stay under about 2.7 kB, so a
search text is now at most 2,000 bytes as well as 1,000 characters
(services.clients.matching.SEARCH_TEXT_BYTES): the few longer ones (four-byte characters) are
cut here first, to 500 characters, which always fit, as the services cut one in SQL. On SQLite
nothing changes (it has no INCLUDE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_BYTES = 2000  # services.clients.matching.SEARCH_TEXT_BYTES when this was written


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    too_long = sa.text("octet_length(search_text) > :bytes").bindparams(bytes=MAX_BYTES)
    include = ["id", "merged_into_id", "search_text"]
    if not op.get_bind().scalar(
        sa.select(sa.func.count()).select_from(sa.table("clients")).where(too_long)
    ):
        op.drop_index("ix_clients_owner_id", table_name="clients")
        op.create_index("ix_clients_owner_id", "clients", ["owner_id"], postgresql_include=include)
        return
    # As services.clients.matching cuts a text too long in bytes: 500 characters always fit.
    # The cut is committed and the index built concurrently: a plain build also reads the
    # rows' old versions while any transaction may still see them, and those would not fit.
    with op.get_context().autocommit_block():
        op.execute(
            sa.update(sa.table("clients", sa.column("search_text")))
            .where(too_long)
            .values(search_text=sa.func.substr(sa.column("search_text"), 1, MAX_BYTES // 4))
        )
        op.create_index(
            "ix_clients_owner_id_0015",
            "clients",
            ["owner_id"],
            postgresql_include=include,
            postgresql_concurrently=True,
        )
    op.drop_index("ix_clients_owner_id", table_name="clients")
    op.execute("ALTER INDEX ix_clients_owner_id_0015 RENAME TO ix_clients_owner_id")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_clients_owner_id", table_name="clients")
    op.create_index("ix_clients_owner_id", "clients", ["owner_id"], postgresql_include=["id"])
