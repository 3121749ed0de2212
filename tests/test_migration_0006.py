"""Migration 0006 on a database where two employees share an extension (allowed before it):
the oldest keeps it, as calls went to them, and the constraint then holds."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

import migrations
from tests.conftest import scratch_pg_database

INSERT = sa.text(
    "INSERT INTO employees (name, role, extension, is_active, on_shift, created_at, updated_at) "
    "VALUES (:name, 'employee', :ext, true, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


async def _upgrade_with_shared_extension(url: str) -> list[tuple[str, str | None]]:
    await migrations.upgrade_async(url, "0003")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for name, ext in (("Анна", "101"), ("Борис", "101"), ("Вера", "102"), ("Глеб", None)):
                await conn.execute(INSERT, {"name": name, "ext": ext})
        await migrations.upgrade_async(url, "0006")
        async with engine.begin() as conn:
            rows = await conn.execute(sa.text("SELECT name, extension FROM employees ORDER BY id"))
            kept = [tuple(row) for row in rows.all()]
            with pytest.raises(sa.exc.IntegrityError):
                await conn.execute(INSERT, {"name": "Дина", "ext": "102"})
    finally:
        await engine.dispose()
    return kept


EXPECTED = [("Анна", "101"), ("Борис", None), ("Вера", "102"), ("Глеб", None)]


def test_on_sqlite(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    assert asyncio.run(_upgrade_with_shared_extension(url)) == EXPECTED


def test_on_postgresql() -> None:
    with scratch_pg_database("m6") as url:
        assert asyncio.run(_upgrade_with_shared_extension(url)) == EXPECTED
