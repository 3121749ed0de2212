"""Rate limits hold per chat and overall, in one process and across processes via Redis."""

from __future__ import annotations

import asyncio
import itertools
import time

from scheduler.rate_limit import MemoryRateLimiter, RedisRateLimiter


async def _send_times(limiters, keys: list[str]) -> list[tuple[str, float]]:
    """The send slot each acquire reserved, in the limiter's own clock: what the limits are
    kept on, independent of how late a busy machine wakes the waiting task."""
    started: list[tuple[str, float]] = []

    async def one(i: int, key: str) -> None:
        started.append((key, await limiters[i % len(limiters)].acquire(key)))

    await asyncio.gather(*(one(i, k) for i, k in enumerate(keys)))
    return sorted(started, key=lambda x: x[1])


def _busiest_window(times: list[float], window: float = 1.0) -> int:
    return max(sum(1 for t in times if s <= t < s + window) for s in times)


async def test_memory_limiter_spreads_a_burst_and_spaces_one_chat() -> None:
    limiter = MemoryRateLimiter(per_second=10, per_key_interval=0.5)
    sent = await _send_times([limiter], [f"chat{i}" for i in range(15)] + ["same"] * 3)
    assert _busiest_window([t for _, t in sent]) <= 10
    same = [t for k, t in sent if k == "same"]
    assert all(b - a >= 0.49 for a, b in itertools.pairwise(same))


async def test_a_waiting_chat_does_not_hold_up_other_chats() -> None:
    limiter = MemoryRateLimiter(per_second=100, per_key_interval=5)
    await limiter.acquire("slow")
    started = time.monotonic()
    waiting = asyncio.create_task(limiter.acquire("slow"))
    await limiter.acquire("other")
    assert time.monotonic() - started < 0.2
    waiting.cancel()


async def test_two_processes_sharing_redis_share_the_limits(redis, redis_prefix) -> None:
    prefix = f"{redis_prefix}:rl"
    first = RedisRateLimiter(redis, per_second=5, per_key_interval=0.4, prefix=prefix)
    second = RedisRateLimiter(redis, per_second=5, per_key_interval=0.4, prefix=prefix)
    sent = await _send_times([first, second], [f"c{i}" for i in range(8)] + ["same"] * 3)
    times = [t for _, t in sent]
    assert _busiest_window(times) == 5  # the limit is reached, never passed
    assert max(times) - min(times) >= 1.0  # 11 sends at 5 per window need a second window
    same = [t for k, t in sent if k == "same"]
    assert all(b - a >= 0.4 for a, b in itertools.pairwise(same))


async def _group_burst(limiters) -> list[tuple[str, float]]:
    """30 sends to one group and 6 to private chats, at a group budget of 5 per 0.5 s."""
    keys = ["-100777"] * 12 + [f"{i}" for i in range(6)]
    return await _send_times(limiters, keys)


def _check_group_budget(sent: list[tuple[str, float]]) -> None:
    group = [t for k, t in sent if k == "-100777"]
    assert _busiest_window(group, window=0.5) <= 5  # never more than the group's budget
    assert max(group) - min(group) >= 1.0  # 12 at 5 per window need two more windows
    private = [t for k, t in sent if k != "-100777"]
    assert max(private) - min(t for _, t in sent) < 0.3  # private chats never waited for it


async def test_a_group_gets_its_own_budget_and_private_chats_do_not_wait_for_it() -> None:
    limiter = MemoryRateLimiter(per_second=100, per_key_interval=0, group_rate=(5, 0.5))
    _check_group_budget(await _group_burst([limiter]))


async def test_two_processes_share_a_groups_budget_through_redis(redis, redis_prefix) -> None:
    prefix = f"{redis_prefix}:rl-group"
    limiters = [
        RedisRateLimiter(redis, 100, 0, prefix=prefix, group_rate=(5, 0.5)) for _ in range(2)
    ]
    _check_group_budget(await _group_burst(limiters))
