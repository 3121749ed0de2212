"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import models
from migrations import for_dialect


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite cannot reflect them
async def test_migrated_schema_matches_the_models(db):
    def diff(connection):
        opts = {"compare_type": True, "include_object": for_dialect(connection.dialect.name)}
        context = MigrationContext.configure(connection, opts=opts)
        return compare_metadata(context, models.Base.metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_the_default_pipeline_has_the_seven_stages(db):
    import sqlalchemy as sa

    async with db.unit_of_work() as s:
        names = (
            (
                await s.execute(
                    sa.select(models.PipelineStage.name).order_by(models.PipelineStage.position)
                )
            )
            .scalars()
            .all()
        )
    assert names == [
        "Неразобранное",
        "Первичный контакт",
        "Переговоры",
        "Принимают решение",
        "Согласование договора",
        "Успешно реализовано",
        "Не реализовано",
    ]
