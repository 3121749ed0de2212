"""The delete part of bench/admin.py: one seller's 10,000 deals, with their 10,000 tasks,
deleted through services.bulk (count, apply, undo, each one unit of work: every row kept in
the operation's trash, and put back), beside bare DELETE statements that keep nothing."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.admin_reassign import LEAVER, bench_admin, product
from services import bulk
from services.deals import lists


async def delete_bench(url: str) -> None:
    container = await product(url)
    company = container.company
    try:
        by = await bench_admin(container)
        chosen = lists.DealFilter(owner_id=LEAVER)
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            plan = await bulk.plan_delete(s, chosen, by=by)
        counted = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            op_id = await bulk.delete(s, chosen, expected=plan.count, by=by, company=company)
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
        chosen_sql = "select id from deals where owner_id = $1"
        await conn.execute(f"delete from tasks where deal_id in ({chosen_sql})", LEAVER)
        await conn.execute(
            f"delete from deal_stage_changes where deal_id in ({chosen_sql})", LEAVER
        )
        await conn.execute("delete from deals where owner_id = $1", LEAVER)
        bare = time.perf_counter() - started
        await transaction.rollback()  # measured, not kept
    finally:
        await conn.close()
    print(
        f"\nbulk delete: {plan.count} deals, {plan.along['task']} tasks:"
        f" count {counted * 1000:.0f} ms, apply {applied * 1000:.0f} ms,"
        f" undo {undo_took * 1000:.0f} ms ({undone.back['deal']} deals back);"
        f" bare DELETEs (nothing kept) {bare * 1000:.0f} ms"
    )
