"""The outbox pump: claims due rows, delivers them through the channel's sender, records the
result in its own transaction. Woken right after a commit that wrote rows; polls as a
fallback, so rows left by a crash or written by another process are delivered too.

Faults must not stall or double the outbox:
- every delivery is its own task, at most `capacity` at a time; the pump claims more as soon as
  one finishes (or a nudge comes), so one send that hangs holds up only its own chat;
- the outcome of a send is never dropped: recording it is retried with short backoff until the
  database takes it, while the pump keeps the claim's lease extended;
- `stop()` claims nothing more, gives sends in flight a short grace to finish and record, and
  hands back the claims of those that did not, so the next process sends them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.delivery import GiveUp, Sender
from metrics import OUTBOX_RESULTS
from models import Channel, OutboxLane
from models.db import Database
from scheduler.outbox_attempts import Outcome, attempt, channel_off, mark
from scheduler.rate_limit import BulkLane, RateLimiter, is_group
from services import outbox
from services.clock import Clock
from services.outbox import Claimed

log = logging.getLogger(__name__)
RENDER_SESSIONS = 6
STOP_GRACE = 5.0  # seconds a graceful stop waits for sends in flight
RECORD_BACKOFF = (0.05, 2.0)  # first and longest pause between attempts to record a result
PROBE_EVERY = 2.0  # while a channel's provider is unreachable, how often it is asked again
HEARTBEAT = outbox.CLAIM_LEASE.total_seconds() / 4  # how often held claims are extended
# A group chat takes ~20 messages a minute: rows waiting for its budget would fill the pump
# and hold up everyone else. At most this many of one group's rows are in hand at a time; the
# others are handed back, due again after GROUP_TURN seconds (their attempt not counted).
GROUP_IN_FLIGHT = 2
GROUP_TURN = 1.0


Settled = Callable[[Any, Claimed, str, str | None, str, dict[str, Any]], Awaitable[None]]


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
        grace: float = STOP_GRACE,
        on_settled: Settled | None = None,
        bulk: dict[Channel, BulkLane] | None = None,
    ) -> None:
        """`bulk`: each channel's bulk lane (`bulk_lane`); a channel not named sends its
        bulk rows like any other.

        `on_settled(session, row, result, provider_id, error, facts)` runs in the
        transaction that records a row's result ("sent", "failed" (will retry) or "dead"):
        what a delivery means for the rest of the product (services.conversations.settled);
        `facts` are what the sender said the send did besides (bot.delivery.Sent)."""
        self.db, self.senders, self.limiters, self.clock = db, senders, limiters, clock
        self.on_settled = on_settled
        self.batch, self.poll_interval, self.grace = batch, poll_interval, grace
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._claiming: set[asyncio.Task[list[Claimed]]] = set()
        # Claims whose result is not recorded yet (id → claim): extended while held, handed
        # back on stop, and never sent a second time by this process if their lease lapses.
        self._held: dict[int, Claimed] = {}
        # Rows this process put into backoff because the provider was unreachable: retried at
        # once when a send on their channel succeeds again, instead of waiting out the backoff.
        self._unreachable: dict[Channel, set[int]] = {}
        self._watchers: dict[Channel, asyncio.Task[None]] = {}
        self._in_group: Counter[str] = Counter()  # a group chat's rows being delivered
        self.bulk = dict(bulk or {})
        self._bulk: Counter[Channel] = Counter()  # bulk-lane rows in hand, by channel

    def nudge(self) -> None:
        """Called after a commit that wrote outbox rows (and by Redis pub/sub)."""
        self._wake.set()

    def start(self) -> None:
        self._loops = [
            asyncio.create_task(self._run(), name="outbox-pump"),
            asyncio.create_task(self._keep_leases(), name="outbox-leases"),
        ]

    async def stop(self) -> None:
        """Claim nothing more; let sends in flight finish for `grace` s; hand back the rest."""
        for loop in [*self._loops, *self._watchers.values()]:
            loop.cancel()
        await asyncio.gather(*self._loops, *self._watchers.values(), return_exceptions=True)
        self._loops = []
        if self._claiming:  # a claim cut short by the cancel: let it finish to hand it back
            await asyncio.wait(set(self._claiming), timeout=self.grace)
        if self._tasks:
            _done, late = await asyncio.wait(set(self._tasks), timeout=self.grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._release(list(self._held.values()))

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                claimed = await self._fill()
            except Exception:
                log.exception("outbox pump: claiming failed (will retry)")
                claimed = 0
            if not claimed or len(self._tasks) >= self.batch:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
                # arrives as the wake-up does, and the pump would never stop (seen as a hang).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()

    async def _fill(self) -> int:
        """Claim as many due rows as there is room for and start delivering each on its own."""
        room = self.batch - len(self._tasks)
        if room <= 0:
            return 0
        rows, off = await self._claim(room)
        rows = await self._in_turn(rows)
        prepared = await self._prepare(rows)
        for row in rows:
            self._spawn(self._deliver_in_turn(row, prepared.get(row.id)), row)
        for row in off:
            self._spawn(self._record(row, channel_off(row)), row)
        return len(rows) + len(off)

    async def _in_turn(self, rows: list[Claimed]) -> list[Claimed]:
        """The rows to deliver now: a group chat's beyond GROUP_IN_FLIGHT are handed back."""
        now_rows, later = [], []
        for row in rows:
            chat = outbox.chat_of(row.recipient)
            if is_group(chat) and self._in_group[chat] >= GROUP_IN_FLIGHT:
                later.append(row)
                continue
            if is_group(chat):
                self._in_group[chat] += 1
            now_rows.append(row)
        if later:
            try:
                async with self.db.unit_of_work() as session:
                    await outbox.release(
                        session,
                        [(r.id, r.attempts) for r in later],
                        now=self.clock.now(),
                        after=GROUP_TURN,
                    )
            except Exception as exc:  # they wait in the limiter instead
                log.warning("outbox: could not hand back %d group row(s): %s", len(later), exc)
                for row in later:
                    self._in_group[outbox.chat_of(row.recipient)] += 1
                return now_rows + later
            for row in later:
                self._held.pop(row.id, None)
        return now_rows

    async def _deliver_in_turn(self, row: Claimed, prepared: Any) -> None:
        try:
            await self.deliver(row, prepared)
        finally:
            chat = outbox.chat_of(row.recipient)
            if is_group(chat):
                self._in_group[chat] -= 1
                if self._in_group[chat] <= 0:
                    del self._in_group[chat]

    async def run_once(self) -> int:
        """Claim one batch and deliver it, waiting for every result (tests, one-off drains)."""
        rows, off = await self._claim(self.batch)
        prepared = await self._prepare(rows)
        await asyncio.gather(
            *(self.deliver(row, prepared.get(row.id)) for row in rows),
            *(self._record(row, channel_off(row)) for row in off),
        )
        return len(rows)

    async def _claim(self, limit: int) -> tuple[list[Claimed], list[Claimed]]:
        """Claimed rows: those to send, and those for a channel that is off now.

        A stop that cancels the pump mid-claim must not cut the claim off between the commit
        and `_held` (the rows would sit claimed by nobody until the lease ran out): the claim
        runs as a task of its own that `stop()` waits for, and hands back what it took.
        """
        claiming = asyncio.create_task(self._claim_rows(limit), name="outbox-claim")
        self._claiming.add(claiming)
        claiming.add_done_callback(self._claiming.discard)
        rows = await asyncio.shield(claiming)
        return (
            [r for r in rows if r.channel in self.senders],
            [r for r in rows if r.channel not in self.senders],
        )

    async def _claim_rows(self, limit: int) -> list[Claimed]:
        room = {c: lane.in_flight - self._bulk[c] for c, lane in self.bulk.items()}
        async with self.db.unit_of_work() as session:
            rows = await outbox.claim_due(
                session, now=self.clock.now(), limit=limit, bulk_room=room
            )
        # A row of ours whose lease lapsed while its result waited for the database (an outage
        # longer than the lease) comes back here: its pending record settles it, not a resend.
        rows = [r for r in rows if r.id not in self._held]
        for row in rows:
            self._held[row.id] = row
        return rows

    def _spawn(self, work: Coroutine[Any, Any, None], row: Claimed) -> None:
        task = asyncio.create_task(work, name=f"outbox-{row.id}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        if row.lane == OutboxLane.BULK:  # counted until done (claims run one at a time)
            self._bulk[row.channel] += 1
            task.add_done_callback(lambda _: self._bulk_done(row.channel))

    def _bulk_done(self, channel: Channel) -> None:
        self._bulk[channel] -= 1
        if self._bulk[channel] <= 0:
            del self._bulk[channel]

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()  # room for one more, and its chat's next message may be due now
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox delivery task failed", exc_info=task.exception())

    async def _prepare(self, rows: list[Claimed]) -> dict[int, Any]:
        """Render the batch before sending, so no connection is held during network I/O.

        Rendering reads several rows per card; a few sessions side by side keep a busy event
        loop from turning hundreds of sequential round trips into seconds of screen-pop delay.
        A row this fails for (the database went away) renders again in its own delivery.
        """
        prepared: dict[int, Any] = {}

        async def render(chunk: list[Claimed]) -> None:
            async with self.db.unit_of_work() as session:
                for row in chunk:
                    try:
                        prepared[row.id] = await self.senders[row.channel].prepare(row, session)
                    except GiveUp as exc:
                        prepared[row.id] = exc

        lanes = 1 if self.db.is_sqlite else RENDER_SESSIONS
        chunks = [rows[i::lanes] for i in range(lanes) if rows[i::lanes]]
        results = await asyncio.gather(*(render(c) for c in chunks), return_exceptions=True)
        for error in results:
            if isinstance(error, Exception):
                log.warning("outbox: rendering a batch failed (%s); rows render one by one", error)
        return prepared

    async def deliver(self, row: Claimed, prepared: Any = None) -> None:
        """Send one claimed row (rendering it first unless the batch did) and record it."""
        self._held[row.id] = row
        await self._record(
            row,
            await attempt(
                self.senders[row.channel],
                row,
                prepared,
                self.db,
                bulk=self.bulk.get(row.channel) if row.lane == OutboxLane.BULK else None,
                limiter=self.limiters.get(row.channel),
            ),
        )

    async def _record(self, row: Claimed, outcome: Outcome) -> None:
        """Write the outcome, retrying with short backoff until the database takes it."""
        pause, failures = RECORD_BACKOFF[0], 0
        while True:
            try:
                async with self.db.unit_of_work() as session:
                    result = await self._settle(session, row, outcome)
                break
            except Exception as exc:
                failures += 1
                if failures == 1 or failures % 30 == 0:
                    log.warning(
                        "outbox row %s: recording %r failed %d time(s) (%s: %s); retrying",
                        row.id,
                        outcome.result,
                        failures,
                        type(exc).__name__,
                        exc,
                    )
                await asyncio.sleep(pause * random.uniform(0.8, 1.2))
                pause = min(pause * 2, RECORD_BACKOFF[1])
        self._held.pop(row.id, None)
        waiting = self._unreachable.setdefault(row.channel, set())
        if result == "failed" and outcome.unreachable:
            waiting.add(row.id)
            self._watch(row.channel)
        elif result == "sent" and waiting:
            await self._retry_now(row.channel)
        if result != "sent":
            log.warning(
                "outbox row %s (%s to %s): %s: %s",
                row.id,
                row.kind,
                row.recipient,
                result,
                outcome.error,
            )
        OUTBOX_RESULTS.labels(str(row.channel), result).inc()

    async def _settle(self, session: Any, row: Claimed, outcome: Outcome) -> str:
        result = await mark(session, row, outcome, now=self.clock.now())
        if self.on_settled is not None and row.kind != outbox.DIGEST_KIND:
            await self.on_settled(
                session, row, result, outcome.provider_id, outcome.error, outcome.facts
            )
        return result

    def _watch(self, channel: Channel) -> None:
        """Ask the provider every PROBE_EVERY s whether it answers again (one probe at a time)."""
        probe = getattr(self.senders.get(channel), "reachable", None)
        if probe is None or channel in self._watchers:
            return

        async def watch() -> None:
            try:
                while self._unreachable.get(channel):
                    await asyncio.sleep(PROBE_EVERY)
                    if await probe():
                        await self._retry_now(channel)
                        return
            finally:
                self._watchers.pop(channel, None)

        self._watchers[channel] = asyncio.create_task(watch(), name=f"outbox-probe-{channel}")

    async def _retry_now(self, channel: Channel) -> None:
        """The channel answers again: what waits out a backoff for that goes now."""
        ids = sorted(self._unreachable.pop(channel, set()))
        try:
            async with self.db.unit_of_work() as session:
                due = await outbox.retry_now(session, ids, now=self.clock.now())
        except Exception as exc:  # they keep their backoff; nothing is lost
            log.warning("outbox: could not bring %d retries forward: %s", len(ids), exc)
            return
        if due:
            log.info("outbox: %s answers again; %d waiting row(s) retried now", channel, due)
            self.nudge()

    async def _keep_leases(self) -> None:
        """Extend the leases of claims this process holds, so none lapses while in flight."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            claims = [(r.id, r.attempts) for r in self._held.values()]
            if not claims:
                continue
            try:
                async with self.db.unit_of_work() as session:
                    await outbox.extend_leases(session, claims, now=self.clock.now())
            except Exception as exc:
                log.warning("outbox: extending %d lease(s) failed: %s", len(claims), exc)

    async def _release(self, rows: list[Claimed]) -> None:
        """Hand back claims that did not finish, so they go out at once from the next process."""
        if not rows:
            return
        claims = [(r.id, r.attempts) for r in rows]
        for pause in (0.1, 0.3, 1.0, None):
            try:
                async with self.db.unit_of_work() as session:
                    released = await outbox.release(session, claims, now=self.clock.now())
                log.info("outbox: handed back %d unfinished claim(s) on stop", released)
                self._held.clear()
                return
            except Exception as exc:
                if pause is None:
                    log.error("outbox: could not hand back %d claim(s): %s", len(claims), exc)
                    return
                await asyncio.sleep(pause)
