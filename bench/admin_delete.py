"""The delete part of bench/admin.py: one seller's 10,000 deals, with their 10,000 tasks,
deleted through services.bulk (count, apply, undo, each one unit of work: every row kept in
the operation's trash, and put back), beside bare DELETE statements that keep nothing."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.admin_reassign import LEAVER, timed_bulk
from services import bulk
from services.deals import lists


async def delete_bench(url: str) -> None:
    chosen = lists.DealFilter(owner_id=LEAVER)
    of_deals = "select id from deals where owner_id = $1"
    took = await timed_bulk(
        url,
        lambda s, by: bulk.plan_delete(s, chosen, by=by),
        lambda s, by, plan, company: bulk.delete(
            s, chosen, expected=plan.count, by=by, company=company
        ),
        [
            (f"delete from tasks where deal_id in ({of_deals})", (LEAVER,)),
            (f"delete from deal_stage_changes where deal_id in ({of_deals})", (LEAVER,)),
            ("delete from deals where owner_id = $1", (LEAVER,)),
        ],
    )
    print(
        f"\nbulk delete: {took.plan.count} deals, {took.plan.along['task']} tasks:"
        f" count {took.counted * 1000:.0f} ms, apply {took.applied * 1000:.0f} ms,"
        f" undo {took.undo_took * 1000:.0f} ms ({took.undone.back['deal']} deals back);"
        f" bare DELETEs (nothing kept) {took.bare * 1000:.0f} ms"
    )
