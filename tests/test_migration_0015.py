"""Migration 0015 on a PostgreSQL database holding a search text too long in bytes for the
owner index that now carries it (four-byte characters, allowed before): the text is cut to
what fits, the index is built, and the client is still found by its first word."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

import migrations
from services.clients.matching import SEARCH_TEXT_BYTES
from tests.conftest import PG_ADMIN_URL, RUN_ID, _pg_admin, _unavailable

WIDE = "".join(chr(0x20000 + i * 7919 % 42000) for i in range(990))  # 3,960 bytes
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
    name = f"chatcrm_test_{RUN_ID}_m15"
    try:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        texts, columns = asyncio.run(_upgrade_with_a_long_search_text(url))
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert columns == ["owner_id", "id", "merged_into_id", "search_text"]
    assert sorted(texts, key=len) == ["еж", ("еж " + WIDE)[:500]]
    assert all(len(t.encode()) <= SEARCH_TEXT_BYTES for t in texts)
