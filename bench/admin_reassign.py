"""The reassign part of bench/admin.py: 10,000 deals of one seller, with their 10,000 open
tasks, given to another through services.bulk (count, apply, undo, each one unit of work),
beside the two bare UPDATE statements that would do the same without a way back."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import Container
from bench import sa_url
from config.settings import Settings
from models import Employee
from services import bulk
from services.actors import Actor
from services.bulk import Undone
from services.context import Company
from services.deals import lists

LEAVER = 21  # owns the first 10,000 deals (bench/admin.py's seed): "all deals of this seller"
HEIR = 22
MOVED = 10_000


async def product(url: str) -> Container:
    """The product's container on the bench's database."""
    return Container.build(Settings(_env_file=None, database_url=sa_url(url)))  # type: ignore[call-arg]


@dataclass(frozen=True)
class Timed:
    plan: Any
    undone: Undone
    counted: float  # seconds
    applied: float
    undo_took: float
    bare: float  # the bare statements, in one transaction rolled back


async def timed_bulk(
    url: str,
    plan: Callable[[AsyncSession, Actor], Awaitable[Any]],
    apply: Callable[[AsyncSession, Actor, Any, Company], Awaitable[int]],
    bare: list[tuple[str, tuple[Any, ...]]],
) -> Timed:
    """A bulk change through the product (count, apply, undo: each one unit of work) and the
    bare statements that would do the same without a way back, each timed."""
    container = await product(url)
    try:
        by = await bench_admin(container)
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            counted_plan = await plan(s, by)
        counted = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            op_id = await apply(s, by, counted_plan, container.company)
        applied = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            undone = await bulk.undo(s, op_id, by=by, company=container.company)
        undo_took = time.perf_counter() - started
    finally:
        await container.close()
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        transaction = conn.transaction()
        await transaction.start()
        for sql, args in bare:
            await conn.execute(sql, *args)
        bare_took = time.perf_counter() - started
        await transaction.rollback()  # measured, not kept
    finally:
        await conn.close()
    return Timed(counted_plan, undone, counted, applied, undo_took, bare_took)


async def bench_admin(container: Container) -> Actor:
    """The admin the seed gave a login ("bench"), as the services see them."""
    async with container.db.unit_of_work() as s:
        admin = await s.scalar(sa.select(Employee).where(Employee.login == "bench"))
        assert admin is not None
        return Actor.of(admin)


async def reassign_bench(url: str) -> None:
    chosen = lists.DealFilter(owner_id=LEAVER)
    took = await timed_bulk(
        url,
        lambda s, by: bulk.plan_reassign(s, chosen, to=HEIR, carry=("task",), by=by),
        lambda s, by, plan, company: bulk.reassign(
            s, chosen, to=HEIR, carry=("task",), expected=plan.moving, by=by, company=company
        ),
        [
            (
                "update deals set owner_id = $1 where owner_id = $2 and status = 'open'",
                (HEIR, LEAVER),
            ),
            (
                "update tasks set assignee_id = $1 where assignee_id = $2 and status = 'open'",
                (HEIR, LEAVER),
            ),
        ],
    )
    print(
        f"\nbulk reassign: {took.plan.moving} deals, {took.plan.carried['task']} tasks:"
        f" count {took.counted * 1000:.0f} ms,"
        f" apply {took.applied * 1000:.0f} ms, undo {took.undo_took * 1000:.0f} ms"
        f" ({took.undone.back['deal']} deals, {took.undone.back['task']} tasks back);"
        f" bare two UPDATEs {took.bare * 1000:.0f} ms"
    )
