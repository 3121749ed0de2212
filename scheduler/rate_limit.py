"""Send-rate limits: at most N sends in any sliding window overall, and a minimum interval per
chat. In-process by default; with Redis the same limits hold across all worker processes.
A chat waiting for its interval never holds up other chats.

The window is a little longer than a second: requests started 1.0 s apart can arrive at
Telegram closer together, and Telegram counts arrivals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

WINDOW = 1.1
log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    async def acquire(self, key: str) -> float:
        """Wait for a send slot for `key`; returns the slot's reserved start time (seconds, on
        the limiter's own clock), which is what the limits are kept on."""
        ...


class MemoryRateLimiter:
    def __init__(self, per_second: float, per_key_interval: float, window: float = WINDOW) -> None:
        self._rate = max(int(per_second), 1)
        self._window = window
        self._interval = per_key_interval
        self._slots: deque[float] = deque()  # reserved start times, ascending
        self._next_for: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: str) -> float:
        while True:
            async with self._lock:
                now = time.monotonic()
                key_wait = self._next_for.get(key, 0.0) - now
                if key_wait <= 0:
                    slot = self._reserve(now)
                    self._next_for[key] = slot + self._interval
                    break
            await asyncio.sleep(key_wait)
        if slot > now:
            await asyncio.sleep(slot - now)
        return slot

    def _reserve(self, now: float) -> float:
        while self._slots and self._slots[0] <= now - self._window:
            self._slots.popleft()
        slot = now
        if len(self._slots) >= self._rate:
            slot = max(now, self._slots[-self._rate] + self._window)
        self._slots.append(slot)
        if len(self._next_for) > 10_000:
            self._next_for = {k: v for k, v in self._next_for.items() if v > now}
        return slot


# KEYS: window zset, per-key key, sequence. ARGV: rate, window ms, interval ms.
# Returns {wait_ms, 0, slot_ms} with a reserved slot, or {-1, key_wait_ms} when the key must
# wait first. Time is Redis's own clock, one for every process.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, window, interval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local key_next = tonumber(redis.call('GET', KEYS[2]) or '0')
if key_next > now then return {-1, key_next - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local slot = now
if n >= rate then
  local edge = redis.call('ZRANGE', KEYS[1], n - rate, n - rate, 'WITHSCORES')
  slot = math.max(now, tonumber(edge[2]) + window)
end
redis.call('ZADD', KEYS[1], slot, tostring(redis.call('INCR', KEYS[3])))
redis.call('PEXPIRE', KEYS[1], window * 4 + 60000)
redis.call('SET', KEYS[2], slot + interval, 'PX', interval + 60000)
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
    ) -> None:
        self._redis = redis
        self._call_timeout = call_timeout  # a Redis that hangs counts as unreachable
        self._args = [max(int(per_second), 1), int(window * 1000), int(per_key_interval * 1000)]
        self._prefix = prefix
        self._script = redis.register_script(_ACQUIRE)

    async def ping(self) -> None:
        await asyncio.wait_for(self._redis.ping(), self._call_timeout)

    async def acquire(self, key: str) -> float:
        keys = [f"{self._prefix}:window", f"{self._prefix}:chat:{key}", f"{self._prefix}:seq"]
        while True:
            wait_ms, key_wait_ms, *slot = await asyncio.wait_for(
                self._script(keys=keys, args=self._args), self._call_timeout
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
