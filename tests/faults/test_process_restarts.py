"""A real `crm run` stopped in the middle of its work, then started again.

SIGTERM (a deploy): sends still unanswered after the grace period are handed back and go out
from the next process at once. SIGKILL mid-burst: every acknowledged lead's card arrives; a
second copy only for a card whose send was in flight at the kill (Telegram may have taken it,
the record never happened), and the killed process's claims wait out their 20 s lease."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import aiohttp

from tests.conftest import REDIS_PREFIX
from tests.faults.conftest import (
    FORMS_TOKEN,
    Leads,
    cards_of,
    copies,
    free_port,
    staff,
    wait_until,
)
from tests.processes import NO_DIGESTS

CRM = str(Path(sys.executable).parent / "crm")


async def start_crm(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        CRM,
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{env['HTTP_PORT']}"
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while True:
            assert process.returncode is None, "crm run exited"
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "crm run did not come up"
            await asyncio.sleep(0.2)


def crm_env(postgresql_url: str, fake_tg, port: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FORMS", "REDIS"))
    }
    return {
        **inherited,
        "DATABASE_URL": postgresql_url,
        "DIGEST_TIME": NO_DIGESTS,
        "TELEGRAM_BOT_TOKEN": fake_tg.token,
        "TELEGRAM_API_BASE": fake_tg.base_url,
        "FORMS_TOKEN": FORMS_TOKEN,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "REDIS_PREFIX": REDIS_PREFIX,
        "TELEGRAM_CHAT_INTERVAL": "0.2",
    }


class Http:
    """What `Leads.post` needs, speaking to the real process."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session, self.port = session, port

    async def post(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        async with self.session.post(f"http://127.0.0.1:{self.port}{path}", **kwargs) as r:
            await r.read()
            return r


async def test_a_deploy_sigterm_hands_back_unanswered_sends(postgresql_url, pg, fake_tg, tmp_path):
    anna, boris = await staff(pg, 2)
    port = free_port()
    env = crm_env(postgresql_url, fake_tg, port)
    process = await start_crm(env, tmp_path)
    leads = Leads()
    fake_tg.hold_next("sendMessage")  # Telegram never answers Anna's card
    async with aiohttp.ClientSession() as session:
        http = Http(session, port)
        await leads.post(http, 2)
        await fake_tg.wait_for("sendMessage")
        await asyncio.sleep(0.5)  # Boris's card may go out or still be claimed: both are fine
        stopping = time.monotonic()
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 30) == 0
        assert time.monotonic() - stopping < 15  # the 5 s grace, not the 15 s request timeout
        process = await start_crm(env, tmp_path)
        try:
            took = await wait_until(lambda: len(fake_tg.sent_messages(anna)) == 1, within=10)
            assert took < 10  # handed back: not the 20 s lease
            await asyncio.sleep(0.5)
        finally:
            process.terminate()
            await process.wait()
    # The unanswered request never reached the fake's mailbox: each card exactly once.
    assert cards_of(fake_tg, leads.acknowledged) == dict.fromkeys(leads.acknowledged, 1)
    assert [len(fake_tg.sent_messages(c)) for c in (anna, boris)] == [1, 1]


async def test_killed_with_sigkill_mid_burst_then_started_again(
    postgresql_url, pg, fake_tg, tmp_path
):
    await staff(pg, 3)
    port = free_port()
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FORMS", "REDIS"))
        },
        "DATABASE_URL": postgresql_url,
        "DIGEST_TIME": NO_DIGESTS,
        "TELEGRAM_BOT_TOKEN": fake_tg.token,
        "TELEGRAM_API_BASE": fake_tg.base_url,
        "FORMS_TOKEN": FORMS_TOKEN,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "REDIS_PREFIX": REDIS_PREFIX,
        "TELEGRAM_CHAT_INTERVAL": "0.2",
    }
    process = await start_crm(env, tmp_path)
    fake_tg.delay_next("sendMessage", 0.3, times=12)  # some sends are in flight at the kill
    leads = Leads()

    async with aiohttp.ClientSession() as session:
        http = Http(session, port)

        async def burst() -> None:
            for _ in range(40):
                await asyncio.gather(*(leads.post(http) for _ in range(3)))

        posting = asyncio.create_task(burst())
        # Cards are flowing (a backlog goes out as digests, so few messages carry many leads)
        # and the burst is still on: then kill.
        await fake_tg.wait_for("sendMessage", count=3, timeout=30)
        await wait_until(lambda: len(leads.acknowledged) >= 8, within=30)
        process.kill()  # SIGKILL: no handing back, no last records
        killed_at = time.monotonic()
        await process.wait()
        await posting
        assert len(leads.acknowledged) >= 8 and leads.refused  # it did die mid-burst
        process = await start_crm(env, tmp_path)
        try:
            await leads.post(http, 3)  # new leads after the restart
            # Cards claimed by the killed process wait out its 20 s lease; nothing else waits.
            await wait_until(
                lambda: all(copies(fake_tg, n) >= 1 for n in leads.acknowledged), within=45
            )
            await asyncio.sleep(1)
        finally:
            process.terminate()
            await process.wait()
    doubled = {n for n in leads.acknowledged if copies(fake_tg, n) > 1}
    assert all(copies(fake_tg, n) <= 2 for n in leads.acknowledged)
    for name in doubled:  # the ambiguous window only: a send in flight when the process died
        first = min(c.at for c in fake_tg.calls("sendMessage") if name in c.params["text"])
        assert first < killed_at
    # One message in flight per chat (3 employees) when the process died; a digest of new
    # leads carries several, so those are the leads that may come twice.
    in_flight = {
        id(c)
        for c in fake_tg.calls("sendMessage")
        if c.at < killed_at and any(name in c.params["text"] for name in doubled)
    }
    assert len(in_flight) <= 3
