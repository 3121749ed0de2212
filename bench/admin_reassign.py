"""The reassign part of bench/admin.py: 10,000 deals of one seller, with their 10,000 open
tasks, given to another through services.bulk (count, apply, undo, each one unit of work),
beside the two bare UPDATE statements that would do the same without a way back."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import asyncpg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import Container
from bench import sa_url
from config.settings import Settings
from models import Employee
from services import bulk
from services.actors import Actor
from services.deals import lists

LEAVER = 21  # owns the first 10,000 deals (bench/admin.py's seed): "all deals of this seller"
HEIR = 22
MOVED = 10_000


async def product(url: str) -> Container:
    """The product's container on the bench's database."""
    return Container.build(Settings(_env_file=None, database_url=sa_url(url)))  # type: ignore[call-arg]


async def bench_admin(container: Container) -> Actor:
    """The admin the seed gave a login ("bench"), as the services see them."""
    async with container.db.unit_of_work() as s:
        admin = await s.scalar(sa.select(Employee).where(Employee.login == "bench"))
        assert admin is not None
        return Actor.of(admin)


async def reassign_bench(url: str) -> None:
    container = await product(url)
    company = container.company
    try:
        by = await bench_admin(container)
        chosen = lists.DealFilter(owner_id=LEAVER)
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            plan = await bulk.plan_reassign(s, chosen, to=HEIR, carry=("task",), by=by)
        counted = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            op_id = await bulk.reassign(
                s, chosen, to=HEIR, carry=("task",), expected=plan.moving, by=by, company=company
            )
        applied = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            undone = await bulk.undo(s, op_id, by=by, company=company)
        undo_took = time.perf_counter() - started
    finally:
        await container.close()
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            "update deals set owner_id = $1 where owner_id = $2 and status = 'open'", HEIR, LEAVER
        )
        await conn.execute(
            "update tasks set assignee_id = $1 where assignee_id = $2 and status = 'open'",
            HEIR,
            LEAVER,
        )
        bare = time.perf_counter() - started
        await transaction.rollback()  # measured, not kept
    finally:
        await conn.close()
    print(
        f"\nbulk reassign: {plan.moving} deals, {plan.carried['task']} tasks:"
        f" count {counted * 1000:.0f} ms,"
        f" apply {applied * 1000:.0f} ms, undo {undo_took * 1000:.0f} ms"
        f" ({undone.back['deal']} deals, {undone.back['task']} tasks back);"
        f" bare two UPDATEs {bare * 1000:.0f} ms"
    )
