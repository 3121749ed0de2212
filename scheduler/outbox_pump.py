"""The outbox pump: claims due rows, delivers them through the channel's sender, records the
result in its own transaction. Woken right after a commit that wrote rows; polls as a
fallback, so rows left by a crash or written by another process are delivered too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.delivery import GiveUp, RetryLater, Sender
from metrics import OUTBOX_RESULTS, OUTBOX_SEND_SECONDS
from models import Channel
from models.db import Database
from scheduler.rate_limit import RateLimiter
from services import outbox
from services.clock import Clock
from services.outbox import Claimed

log = logging.getLogger(__name__)
RENDER_SESSIONS = 6


class OutboxPump:
    def __init__(
        self,
        db: Database,
        senders: dict[Channel, Sender],
        limiters: dict[Channel, RateLimiter],
        clock: Clock,
        *,
        batch: int = 50,
        poll_interval: float = 1.0,
    ) -> None:
        self.db, self.senders, self.limiters, self.clock = db, senders, limiters, clock
        self.batch, self.poll_interval = batch, poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    def nudge(self) -> None:
        """Called after a commit that wrote outbox rows (and by Redis pub/sub)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-pump")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox pump iteration failed")
                claimed = 0
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                self._wake.clear()

    async def run_once(self) -> int:
        """Claim one batch and start delivering it; returns how many rows were claimed."""
        async with self.db.unit_of_work() as session:
            rows = await outbox.claim_due(session, now=self.clock.now(), limit=self.batch)
        rows = [r for r in rows if r.channel in self.senders] + await self._park(
            [r for r in rows if r.channel not in self.senders]
        )
        if rows:
            prepared = await self._prepare(rows)
            await asyncio.gather(
                *(self._spawn(row, prepared[row.id]) for row in rows if row.id in prepared)
            )
        return len(rows)

    async def _prepare(self, rows: list[Claimed]) -> dict[int, Any]:
        """Render the batch before sending, so no connection is held during network I/O.

        Rendering reads several rows per card; a few sessions side by side keep a busy event
        loop from turning hundreds of sequential round trips into seconds of screen-pop delay.
        """
        prepared: dict[int, Any] = {}
        failed: list[tuple[Claimed, GiveUp]] = []

        async def render(chunk: list[Claimed]) -> None:
            async with self.db.unit_of_work() as session:
                for row in chunk:
                    try:
                        prepared[row.id] = await self.senders[row.channel].prepare(row, session)
                    except GiveUp as exc:
                        failed.append((row, exc))

        lanes = 1 if self.db.is_sqlite else RENDER_SESSIONS
        await asyncio.gather(*(render(rows[i::lanes]) for i in range(lanes) if rows[i::lanes]))
        for row, exc in failed:
            await self._record(row, "dead", str(exc))
        return prepared

    async def _spawn(self, row: Claimed, prepared: Any) -> None:
        task = asyncio.create_task(self.deliver(row, prepared))
        self._inflight.add(task)
        try:
            await task
        finally:
            self._inflight.discard(task)

    async def deliver(self, row: Claimed, prepared: Any = None) -> None:
        """Send one claimed row (rendering it first unless the batch did) and record it."""
        sender = self.senders[row.channel]
        if prepared is None:
            try:
                async with self.db.unit_of_work() as session:
                    prepared = await sender.prepare(row, session)
            except GiveUp as exc:
                await self._record(row, "dead", str(exc))
                return
        limiter = self.limiters.get(row.channel)
        if limiter is not None:
            await limiter.acquire(row.recipient)
        with OUTBOX_SEND_SECONDS.labels(row.channel.value).time():
            try:
                provider_id = await sender.send(row, prepared)
            except RetryLater as exc:
                await self._record(row, "retry", str(exc), exc.retry_after)
                return
            except GiveUp as exc:
                await self._record(row, "dead", str(exc))
                return
            except Exception as exc:
                log.exception("sending outbox row %s failed", row.id)
                await self._record(row, "retry", f"{type(exc).__name__}: {exc}")
                return
        async with self.db.unit_of_work() as session:
            await outbox.mark_sent(
                session, row.id, now=self.clock.now(), provider_message_id=provider_id
            )
        OUTBOX_RESULTS.labels(row.channel.value, "sent").inc()

    async def _record(
        self, row: Claimed, result: str, error: str, retry_after: float | None = None
    ) -> None:
        now = self.clock.now()
        async with self.db.unit_of_work() as session:
            if result == "dead":
                await outbox.mark_dead(session, row.id, now=now, error=error)
            else:
                status = await outbox.mark_retry(
                    session,
                    row.id,
                    now=now,
                    attempts=row.attempts,
                    error=error,
                    retry_after=retry_after,
                )
                result = status.value
        log.warning(
            "outbox row %s (%s to %s): %s: %s", row.id, row.kind, row.recipient, result, error
        )
        OUTBOX_RESULTS.labels(row.channel.value, result).inc()

    async def _park(self, rows: list[Claimed]) -> list[Claimed]:
        """Rows for a channel that is off now wait (not die) until it is configured."""
        for row in rows:
            await self._record(row, "retry", f"channel {row.channel.value} is off", 300)
        return []
