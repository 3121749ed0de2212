"""Group commit at the edge: concurrent deliveries share one unit of work.

While a batch is being written, new deliveries queue up; the next free slot takes them all
(up to `max_batch`) into one transaction through the service's batch operation. A lone
delivery goes at once, so batching adds no latency when idle and divides the per-transaction
cost under load; and a bounded number of transactions in flight keeps the event loop free
for the outbox pump. If a batch's transaction fails, its deliveries are retried one by one,
so one bad delivery cannot fail the others; each caller gets its own result or error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models.db import Database
from services import calls, conversations
from services.context import Company
from services.leads import intake

log = logging.getLogger(__name__)
In = TypeVar("In")
Out = TypeVar("Out")
Work = Callable[[AsyncSession, list[In], Company], Awaitable[Sequence[object]]]


class GroupCommit(Generic[In, Out]):
    def __init__(
        self,
        db: Database,
        company: Company,
        work: Work,
        *,
        name: str,
        max_batch: int = 16,
        slots: int | None = None,
    ) -> None:
        self.db, self.company, self.work, self.name = db, company, work, name
        self.max_batch = max_batch
        self._slots = asyncio.Semaphore(slots or (1 if db.is_sqlite else 4))
        self._pending: list[tuple[In, asyncio.Future[Out]]] = []
        self._has_work = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()

    async def submit(self, item: In) -> Out:
        """Process one delivery; raises its DomainError if the input was bad."""
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name=self.name)
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
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

    async def _write(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        try:
            async with self.db.unit_of_work() as session:
                results = await self.work(session, [item for item, _ in batch], self.company)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            log.warning("%s: batch of %d failed (%s); one by one", self.name, len(batch), exc)
            for pending in batch:
                await self._write([pending])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[Out], outcome: object) -> None:
    if future.done():  # the caller went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)  # type: ignore[arg-type]


def intake_batcher(db: Database, company: Company, **kwargs: int) -> GroupCommit:
    async def work(session: AsyncSession, items: list, company: Company) -> Sequence[object]:
        return await intake.register_many(session, items, company=company)

    return GroupCommit(db, company, work, name="intake", **kwargs)


def calls_batcher(db: Database, company: Company, **kwargs: int) -> GroupCommit:
    async def work(session: AsyncSession, items: list, company: Company) -> Sequence[object]:
        return await calls.record_many(session, items, company=company)

    return GroupCommit(db, company, work, name="calls", **kwargs)


def conversations_batcher(db: Database, company: Company, **kwargs: int) -> GroupCommit:
    """WhatsApp notifications (webhooks.whatsapp.Notification): their messages received as one
    batch, then their statuses; each notification gets its counts back."""

    async def work(session: AsyncSession, items: list, company: Company) -> Sequence[object]:
        messages = [m for item in items for m in item.messages]
        await conversations.receive_many(session, messages, company=company)
        await conversations.record_statuses(
            session,
            [s for item in items for s in item.statuses],
            now=company.clock.now(),
            default_locale=company.locale,
        )
        return [len(item.messages) for item in items]

    return GroupCommit(db, company, work, name="conversations", **kwargs)
