"""Migration 0015 on a PostgreSQL database holding a search text too long in bytes for the
owner index that now carries it (four-byte characters, allowed before): the text is cut to
what fits and the index is built carrying it."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

import migrations
from services.clients.matching import SEARCH_TEXT_BYTES
from tests.conftest import scratch_pg_database
from tests.factories import four_byte_text

WIDE = four_byte_text(990)  # 3,960 bytes
INSERT = sa.text(
    "INSERT INTO clients (kind, name, search_text, created_at, updated_at) "
    "VALUES ('person', 'Ёж', :text, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


async def _upgrade_with_a_long_search_text(url: str) -> tuple[list[str], list[str]]:
    await migrations.upgrade_async(url, "0014")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(INSERT, {"text": "еж " + WIDE})
            await conn.execute(INSERT, {"text": "еж"})
        await migrations.upgrade_async(url, "0015")
        async with engine.begin() as conn:
            texts = (await conn.execute(sa.text("SELECT search_text FROM clients"))).scalars()
            included = await conn.execute(
                sa.text(
                    "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_attribute a ON a.attrelid = c.oid "
                    "WHERE c.relname = 'ix_clients_owner_id' ORDER BY a.attnum"
                )
            )
            return list(texts), list(included.scalars())
    finally:
        await engine.dispose()


def test_on_postgresql() -> None:
    with scratch_pg_database("m15") as url:
        texts, columns = asyncio.run(_upgrade_with_a_long_search_text(url))
    assert columns == ["owner_id", "id", "merged_into_id", "search_text"]
    assert sorted(texts, key=len) == ["еж", ("еж " + WIDE)[:500]]
    assert all(len(t.encode()) <= SEARCH_TEXT_BYTES for t in texts)
