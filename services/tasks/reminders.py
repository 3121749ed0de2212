"""Reminders: due rows in the database, fired by a scheduler tick, each exactly once.

A task's `remind_at` is the next moment a reminder is due: the earlier warning, the due time,
or a snooze. `fire_due` takes the tasks whose moment has come, moves each one's `remind_at` on
(a warning's next moment is the due time; after that, nothing until a snooze) and writes the
reminder to the outbox, in one transaction: committed, the reminder will be delivered; rolled
back, nothing moved and the next tick fires it. Schedulers in several processes take disjoint
rows (PostgreSQL: SKIP LOCKED; SQLite: one writer at a time), and the outbox row's dedupe key
(task, reminder number) would refuse a second copy anyway.

A reminder that fires more than LATE_AFTER after its moment (the service was down, the tick
was held up) says so on the card, with the moment it was due. Reminders go in the interactive
lane: they never wait behind bulk messages (services.outbox); three or more waiting for one
chat go as one digest (a line and a button to the task's card each), so a flood of them due in
one minute reaches everyone within the minute instead of at the pace of one message a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Employee, Task, TaskStatus
from services import notify, outbox
from services.context import Company

BATCH = 1000  # tasks fired in one transaction
LATE_AFTER = timedelta(minutes=1)
WARNING, DUE = "warning", "due"

_T, _E = Task.__table__, Employee.__table__


@dataclass(frozen=True)
class Fired:
    count: int
    more: bool  # a full batch: there may be more due right now


async def fire_due(session: AsyncSession, company: Company, *, limit: int = BATCH) -> Fired:
    """Fire up to `limit` due reminders, oldest moment first."""
    now = company.clock.now()
    due = (
        sa.select(
            _T.c.id,
            _T.c.remind_at,
            _T.c.due_at,
            _T.c.reminders_sent,
            _E.c.telegram_id,
            _E.c.locale,
            _E.c.is_active,
        )
        .select_from(_T.outerjoin(_E, _E.c.id == _T.c.assignee_id))
        .where(_T.c.status == TaskStatus.OPEN, _T.c.remind_at.is_not(None))
        .where(_T.c.remind_at <= now)
        .order_by(_T.c.remind_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(of=_T, skip_locked=True)
    rows = (await session.execute(due)).all()
    if not rows:
        return Fired(0, False)
    warned = {r.id for r in rows if r.due_at is not None and r.remind_at < r.due_at}
    finished = [r.id for r in rows if r.id not in warned]
    moves = sa.update(_T).values(reminded_at=now, reminders_sent=_T.c.reminders_sent + 1)
    if warned:  # the warning went: the due time is next
        await session.execute(
            moves.where(_T.c.id.in_(sorted(warned))).values(remind_at=_T.c.due_at)
        )
    if finished:
        await session.execute(moves.where(_T.c.id.in_(finished)).values(remind_at=None))
    messages = [
        outbox.Outgoing(
            channel=Channel.TELEGRAM,
            recipient=r.telegram_id,
            kind=notify.TASK_CARD,
            payload={
                "task_id": r.id,
                "reminder": WARNING if r.id in warned else DUE,
                # fired late: the moment it was due, which the card shows
                "late_from": r.remind_at.isoformat() if now - r.remind_at > LATE_AFTER else None,
            },
            locale=r.locale or company.locale,
            entity=("task", r.id),
            dedupe_key=f"task_reminder:{r.id}:{r.reminders_sent + 1}",
            # Reminders piling up for one chat (a flood of them due at once, a chat the rate
            # limit holds back) go as one digest: a line and a button each.
            coalesce_group=notify.TASK_REMINDERS,
        )
        for r in rows
        if r.telegram_id is not None and r.is_active
    ]
    await outbox.enqueue_many(session, messages, now=now)
    return Fired(len(rows), len(rows) == limit)
