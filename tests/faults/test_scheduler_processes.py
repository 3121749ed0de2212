"""Two real `crm run --only scheduler` processes (two hosts) and an outbox worker on one
PostgreSQL, with Redis and without: every reminder reaches its employee once, those that fell
due while nothing ran as well as those falling due while both schedulers tick."""

from __future__ import annotations

import asyncio
import html
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import Employee, Task, TaskKind, TaskStatus
from tests.conftest import REDIS_URL
from tests.faults.conftest import free_port, staff, wait_until
from tests.faults.test_process_restarts import crm_env
from tests.scheduler.test_reminders import titles_in

CRM = str(Path(sys.executable).parent / "crm")
TASKS_PER_EMPLOYEE = 10


async def spawn(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        CRM,
        "run",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def reminders(fake_tg) -> list[str]:  # type: ignore[no-untyped-def]
    """The titles of the reminders Telegram accepted: a message each, or lines of a digest."""
    found = []
    for call in fake_tg.calls("sendMessage"):
        text = html.unescape(re.sub(r"<[^>]+>", "", str(call.params.get("text"))))
        if call.status == 200 and text.startswith("⏰"):
            found += titles_in(text)
    return found


@pytest.mark.parametrize("with_redis", [False, True], ids=["no-redis", "redis"])
async def test_two_scheduler_processes_fire_each_reminder_once(
    postgresql_url, pg, fake_tg, redis, tmp_path, with_redis
):
    chats = await staff(pg, 4)
    now = datetime.now(UTC)
    async with pg.unit_of_work() as s:
        people = (
            await s.execute(sa.select(Employee.id).where(Employee.telegram_id.in_(chats)))
        ).scalars()
        owners = [who for who in people for _ in range(TASKS_PER_EMPLOYEE)]
        for n, who in enumerate(owners):
            # Half fell due while nothing ran; half fall due while both schedulers tick.
            due = now - timedelta(minutes=5) if n % 2 else now + timedelta(seconds=4)
            s.add(
                Task(
                    kind=TaskKind.GENERAL,
                    title=f"Задача {n}",
                    status=TaskStatus.OPEN,
                    due_at=due,
                    remind_at=due,
                    assignee_id=who,
                    created_at=now,
                    updated_at=now,
                )
            )
    expected = sorted(f"Задача {n}" for n in range(len(chats) * TASKS_PER_EMPLOYEE))
    env = crm_env(postgresql_url, fake_tg, free_port())
    if with_redis:
        env["REDIS_URL"] = REDIS_URL
    processes = [
        await spawn(env, tmp_path, "--only", "scheduler"),
        await spawn(env, tmp_path, "--only", "scheduler"),
        await spawn({**env, "HTTP_PORT": str(free_port())}, tmp_path, "--only", "worker"),
    ]
    try:
        await wait_until(lambda: len(reminders(fake_tg)) >= len(expected), within=60)
        await asyncio.sleep(7)  # every scheduler ticks again (every 5 s): nothing more fires
        assert all(p.returncode is None for p in processes), "a process exited"
    finally:
        for process in processes:
            process.terminate()
        await asyncio.gather(*(p.wait() for p in processes))
    assert sorted(reminders(fake_tg)) == expected


def escalations_to(fake_tg, chat: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        str(c.params.get("text"))
        for c in fake_tg.calls("sendMessage")
        if c.status == 200 and c.params.get("chat_id") == chat and "⏰" in str(c.params.get("text"))
    ]


async def test_escalations_fire_once_with_two_schedulers_and_after_a_restart(
    postgresql_url, pg, fake_tg, tmp_path
):
    from models import Role
    from services.clock import SystemClock
    from tests import factories

    async with pg.unit_of_work() as s:
        boss = await factories.employee(
            s, SystemClock(), name="Пётр", role=Role.MANAGER, office="Центр"
        )
        anna = await factories.employee(s, SystemClock(), name="Анна", office="Центр")
        now = datetime.now(UTC)
        for n in range(6):
            s.add(
                Task(
                    kind=TaskKind.GENERAL,
                    title=f"Просрочено {n}",
                    status=TaskStatus.OPEN,
                    due_at=now - timedelta(hours=2, minutes=n),
                    assignee_id=anna.id,
                    created_at=now,
                    updated_at=now,
                )
            )
    env = crm_env(postgresql_url, fake_tg, free_port())
    worker = await spawn({**env, "HTTP_PORT": str(free_port())}, tmp_path, "--only", "worker")
    schedulers = [await spawn(env, tmp_path, "--only", "scheduler") for _ in range(2)]
    try:
        await wait_until(lambda: len(escalations_to(fake_tg, boss.telegram_id)) >= 6, within=60)
        for process in schedulers:  # both go down, and one comes back: its first run is at once
            process.terminate()
        await asyncio.gather(*(p.wait() for p in schedulers))
        schedulers = [await spawn(env, tmp_path, "--only", "scheduler")]
        await asyncio.sleep(8)
    finally:
        for process in [*schedulers, worker]:
            process.terminate()
        await asyncio.gather(*(p.wait() for p in [*schedulers, worker]))
    sent = escalations_to(fake_tg, boss.telegram_id)
    assert sorted(re.search(r"«(.+?)»", t).group(1) for t in sent) == [  # type: ignore[union-attr]
        f"Просрочено {n}" for n in range(6)
    ]
