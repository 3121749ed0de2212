"""Two test runs on one machine (two checkouts, CI beside a developer) never touch each other's
data: each run has its own PostgreSQL database and its own Redis key prefix."""

from __future__ import annotations

from tests import conftest


async def test_cleaning_up_after_a_test_leaves_another_runs_redis_keys_alone(redis) -> None:
    other_run = "crmtest:someone-else:rl:telegram:window"
    ours = f"{conftest.REDIS_PREFIX}:rl:telegram:window"
    await redis.set(other_run, "theirs", ex=60)
    await redis.set(ours, "ours")
    try:
        await conftest._delete_run_keys(redis)
        assert await redis.get(other_run) == b"theirs"
        assert await redis.get(ours) is None
    finally:
        await redis.delete(other_run)
