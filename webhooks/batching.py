"""Group commit for intake: concurrent deliveries share one unit of work.

While a batch is being written, new deliveries queue up; the next free slot takes them all
(up to `max_batch`) into one transaction through `intake.register_many`. A lone delivery goes
at once, so batching adds no latency when idle and divides the per-transaction cost under
load. If a batch's transaction fails, its deliveries are retried one by one, so one bad
delivery cannot fail the others; each caller gets its own result or error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from models.db import Database
from services import intake
from services.context import Company
from services.intake import Incoming, IntakeResult

log = logging.getLogger(__name__)
Pending = tuple[Incoming, "asyncio.Future[IntakeResult]"]


class IntakeBatcher:
    def __init__(
        self, db: Database, company: Company, *, max_batch: int = 16, slots: int | None = None
    ) -> None:
        self.db, self.company, self.max_batch = db, company, max_batch
        self._slots = asyncio.Semaphore(slots or (1 if db.is_sqlite else 4))
        self._pending: list[Pending] = []
        self._has_work = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()

    async def submit(self, incoming: Incoming) -> IntakeResult:
        """Register one delivery; raises its DomainError if the input was bad."""
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="intake-batcher")
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._pending.append((incoming, future))
        self._has_work.set()
        return await future

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        await asyncio.gather(*self._batches, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._has_work.wait()
            await self._slots.acquire()
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            if not self._pending:
                self._has_work.clear()
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._write(batch))
            self._batches.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._batches.discard(task)
        self._slots.release()

    async def _write(self, batch: list[Pending]) -> None:
        try:
            async with self.db.unit_of_work() as session:
                results = await intake.register_many(
                    session, [incoming for incoming, _ in batch], company=self.company
                )
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            log.warning("intake batch of %d failed (%s); retrying one by one", len(batch), exc)
            for pending in batch:
                await self._write([pending])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[IntakeResult], outcome: object) -> None:
    if future.done():  # the caller went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)  # type: ignore[arg-type]
