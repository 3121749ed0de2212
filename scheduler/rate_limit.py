"""Send-rate limits: at most N sends in any sliding window overall, a minimum interval per
chat, and for group chats (keys starting with "-": Telegram's group ids are negative) at most
`group_rate` = (count, seconds) sends per group (Telegram's ~20 a minute). In-process by
default; with Redis the same limits hold across all worker processes. A chat waiting for its
interval or its group budget never holds up other chats.

The window is a little longer than a second: requests started 1.0 s apart can arrive at
Telegram closer together, and Telegram counts arrivals.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

WINDOW = 1.1
GROUP_SLACK = 1.05  # a group's window is kept a little longer, for the same reason
log = logging.getLogger(__name__)


def is_group(key: str) -> bool:
    return key.startswith("-")


class RateLimiter(Protocol):
    async def acquire(self, key: str) -> float:
        """Wait for a send slot for `key`; returns the slot's reserved start time (seconds, on
        the limiter's own clock), which is what the limits are kept on."""
        ...


class MemoryRateLimiter:
    def __init__(
        self,
        per_second: float,
        per_key_interval: float,
        window: float = WINDOW,
        *,
        group_rate: tuple[int, float] | None = None,
    ) -> None:
        self._rate = max(int(per_second), 1)
        self._window = window
        self._interval = per_key_interval
        self._group = (
            (max(int(group_rate[0]), 1), group_rate[1] * GROUP_SLACK) if group_rate else None
        )
        self._slots: list[float] = []  # reserved start times, ascending
        self._group_slots: dict[str, list[float]] = {}
        self._next_for: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: str) -> float:
        while True:
            async with self._lock:
                now = time.monotonic()
                key_wait = self._next_for.get(key, 0.0) - now
                if key_wait <= 0:
                    slot = self._reserve(now, key)
                    self._next_for[key] = slot + self._interval
                    break
            await asyncio.sleep(key_wait)
        if slot > now:
            await asyncio.sleep(slot - now)
        return slot

    def _reserve(self, now: float, key: str) -> float:
        _prune(self._slots, now, self._window)
        slot = _earliest(self._slots, now, self._rate, self._window)
        group: list[float] | None = None
        if self._group is not None and is_group(key):
            group = self._group_slots.setdefault(key, [])
            _prune(group, now, self._group[1])
            slot = max(slot, _earliest(group, now, *self._group))
            # the overall window must hold at the later slot too
            slot = max(slot, _earliest(self._slots, slot, self._rate, self._window))
        bisect.insort(self._slots, slot)
        if group is not None:
            bisect.insort(group, slot)
        if len(self._next_for) > 10_000:
            self._next_for = {k: v for k, v in self._next_for.items() if v > now}
            keep = now - (self._group[1] if self._group else 0.0)  # slots that still count
            self._group_slots = {k: v for k, v in self._group_slots.items() if v and v[-1] > keep}
        return slot


def _earliest(slots: list[float], at: float, rate: int, window: float) -> float:
    """The first moment from `at` on when one more slot keeps at most `rate` in any `window`
    (`slots` ascending, possibly reaching into the future: a group's sends waiting): a
    `window` after the rate-th latest slot. Conservative when slots lie ahead, never over."""
    if len(slots) < rate:
        return at
    return max(at, slots[-rate] + window)


def _prune(slots: list[float], now: float, window: float) -> None:
    """Drop what can no longer count against a slot from `now` on."""
    cut = bisect.bisect_right(slots, now - window)
    del slots[:cut]


# KEYS: window zset, per-key key, sequence, the group's zset. ARGV: rate, window ms,
# interval ms, group count (0: not a group), group window ms.
# Returns {wait_ms, 0, slot_ms} with a reserved slot, or {-1, key_wait_ms} when the key must
# wait first. Time is Redis's own clock, one for every process. A slot is a window after the
# rate-th latest one (of the whole bot, and of the group): zsets may hold slots ahead of now.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, window, interval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local group_rate, group_window = tonumber(ARGV[4]), tonumber(ARGV[5])
local key_next = tonumber(redis.call('GET', KEYS[2]) or '0')
if key_next > now then return {-1, key_next - now} end
local function earliest(zset, at, count, span)
  local n = redis.call('ZCARD', zset)
  if n < count then return at end
  local edge = redis.call('ZRANGE', zset, n - count, n - count, 'WITHSCORES')
  return math.max(at, tonumber(edge[2]) + span)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local slot = earliest(KEYS[1], now, rate, window)
local seq = tostring(redis.call('INCR', KEYS[3]))
if group_rate > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - group_window)
  slot = math.max(slot, earliest(KEYS[4], now, group_rate, group_window))
  slot = math.max(slot, earliest(KEYS[1], slot, rate, window))
  redis.call('ZADD', KEYS[4], slot, seq)
  redis.call('PEXPIRE', KEYS[4], (slot - now) + group_window * 2 + 60000)
end
redis.call('ZADD', KEYS[1], slot, seq)
-- the set lives as long as its latest slot counts (a group's may lie minutes ahead)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], (tonumber(last[2]) - now) + window * 4 + 60000)
redis.call('SET', KEYS[2], slot + interval, 'PX', (slot - now) + interval + 60000)
return {slot - now, 0, slot}
"""


class RedisRateLimiter:
    def __init__(
        self,
        redis: Redis,
        per_second: float,
        per_key_interval: float,
        *,
        window: float = WINDOW,
        prefix: str = "crm:rl:telegram",
        call_timeout: float = 2.0,
        group_rate: tuple[int, float] | None = None,
    ) -> None:
        self._redis = redis
        # A Redis that hangs counts as unreachable; a slot far ahead (a busy group's) is
        # waited for after the call, so the timeout is the call's only.
        self._call_timeout = call_timeout
        self._args = [max(int(per_second), 1), int(window * 1000), int(per_key_interval * 1000)]
        self._group = (
            [max(int(group_rate[0]), 1), int(group_rate[1] * GROUP_SLACK * 1000)]
            if group_rate
            else [0, 0]
        )
        self._prefix = prefix
        self._script = redis.register_script(_ACQUIRE)

    async def ping(self) -> None:
        await asyncio.wait_for(self._redis.ping(), self._call_timeout)

    async def acquire(self, key: str) -> float:
        p = self._prefix
        keys = [f"{p}:window", f"{p}:chat:{key}", f"{p}:seq", f"{p}:group:{key}"]
        args = [*self._args, *(self._group if is_group(key) else [0, 0])]
        while True:
            wait_ms, key_wait_ms, *slot = await asyncio.wait_for(
                self._script(keys=keys, args=args), self._call_timeout
            )
            if int(wait_ms) >= 0:
                if int(wait_ms) > 0:
                    await asyncio.sleep(int(wait_ms) / 1000)
                return int(slot[0]) / 1000
            await asyncio.sleep(int(key_wait_ms) / 1000)


class FallbackRateLimiter:
    """The shared (Redis) limiter while it answers; a local one while it does not.

    A send never fails because Redis is unreachable: the same limits are kept in this process
    meanwhile (per process, so several workers together may exceed them for that while). One
    background probe checks Redis every `retry_every` seconds and switches back when it answers.
    """

    def __init__(
        self, shared: RedisRateLimiter, local: RateLimiter, *, retry_every: float = 1.0
    ) -> None:
        self._shared, self._local = shared, local
        self._retry_every = retry_every
        self._probe: asyncio.Task[None] | None = None

    async def acquire(self, key: str) -> float:
        if self._probe is None:
            try:
                return await self._shared.acquire(key)
            except (RedisError, OSError, TimeoutError) as exc:
                if self._probe is None:
                    log.warning("rate limiter: Redis unreachable (%s); limiting in-process", exc)
                    self._probe = asyncio.create_task(self._wait_for_shared())
        return await self._local.acquire(key)

    async def _wait_for_shared(self) -> None:
        while True:
            await asyncio.sleep(self._retry_every)
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await self._shared.ping()
                break
        log.warning("rate limiter: Redis is back; limits are shared again")
        self._probe = None


# The bulk lane (broadcasts) of a channel sends at BULK_SHARE of the channel's rate: the rest
# of every rate window stays free for cards, replies and reminders, which therefore never
# wait for a window a broadcast filled. Of its rows the pump keeps BULK_AHEAD seconds' worth
# in hand, so they never fill the pump either.
BULK_SHARE = 0.8
BULK_AHEAD = 0.5


@dataclass(frozen=True)
class BulkLane:
    limiter: RateLimiter  # the lane's own rate, on top of the channel's
    in_flight: int


def bulk_lane(per_second: float, limiter: Callable[[float], RateLimiter]) -> BulkLane:
    """The bulk lane of a channel sending `per_second`; `limiter(rate)` makes its limiter."""
    rate = max(1.0, per_second * BULK_SHARE)
    return BulkLane(limiter(rate), max(1, round(rate * BULK_AHEAD)))
