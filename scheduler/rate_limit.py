"""Send-rate limits: a global pace (messages/s) and a minimum interval per chat.

In-process by default; with Redis the same limits hold across all worker processes.
A chat waiting for its interval never holds up other chats.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from redis.asyncio import Redis


class RateLimiter(Protocol):
    async def acquire(self, key: str) -> None: ...


class MemoryRateLimiter:
    def __init__(self, per_second: float, per_key_interval: float) -> None:
        self._spacing = 1.0 / per_second
        self._interval = per_key_interval
        self._next_global = 0.0
        self._next_for: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: str) -> None:
        while True:
            async with self._lock:
                now = time.monotonic()
                key_wait = self._next_for.get(key, 0.0) - now
                if key_wait <= 0:
                    slot = max(now, self._next_global)
                    self._next_global = slot + self._spacing
                    self._next_for[key] = slot + self._interval
                    self._prune(now)
                    break
            await asyncio.sleep(key_wait)
        if slot > now:
            await asyncio.sleep(slot - now)

    def _prune(self, now: float) -> None:
        if len(self._next_for) > 10_000:
            self._next_for = {k: v for k, v in self._next_for.items() if v > now}


# KEYS: global pace key, per-key key. ARGV: spacing ms, interval ms.
# Returns {wait_ms, 0} with a reserved slot, or {-1, key_wait_ms} when the key must wait first.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key_next = tonumber(redis.call('GET', KEYS[2]) or '0')
if key_next > now then return {-1, key_next - now} end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
redis.call('SET', KEYS[2], slot + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 60000)
return {slot - now, 0}
"""


class RedisRateLimiter:
    def __init__(
        self, redis: Redis, per_second: float, per_key_interval: float, prefix: str = "crm:rl"
    ) -> None:
        self._redis = redis
        self._spacing_ms = max(int(1000 / per_second), 1)
        self._interval_ms = max(int(per_key_interval * 1000), 1)
        self._prefix = prefix
        self._script = redis.register_script(_ACQUIRE)

    async def acquire(self, key: str) -> None:
        keys = [f"{self._prefix}:global", f"{self._prefix}:key:{key}"]
        while True:
            wait_ms, key_wait_ms = await self._script(
                keys=keys, args=[self._spacing_ms, self._interval_ms]
            )
            if int(wait_ms) >= 0:
                if int(wait_ms) > 0:
                    await asyncio.sleep(int(wait_ms) / 1000)
                return
            await asyncio.sleep(int(key_wait_ms) / 1000)
