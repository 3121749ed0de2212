"""Password guessing is slowed per (login, address) and per address, and never locks the real
admin out from elsewhere. Each client here connects from its own loopback address
(127.0.0.2, 127.0.0.3, …), so the server sees real, distinct client addresses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
import sqlalchemy as sa

from app import Container
from models import AuditEntry
from services import admins
from tests.admin_web.forms import page_token, sign_in
from webhooks.server import build_web_app

Client = Callable[[str], aiohttp.ClientSession]


@pytest.fixture
async def client_at(container, clock, aiohttp_server) -> AsyncIterator[Client]:
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
    server = await aiohttp_server(build_web_app(container))
    opened: list[aiohttp.ClientSession] = []

    def connect(address: str) -> aiohttp.ClientSession:
        client = aiohttp.ClientSession(
            base_url=f"http://127.0.0.1:{server.port}",
            connector=aiohttp.TCPConnector(local_addr=(address, 0)),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for an IP address host
        )
        opened.append(client)
        return client

    yield connect
    for client in opened:
        await client.close()


async def test_an_attackers_failures_do_not_lock_the_admin_out_from_another_address(client_at):
    attacker, admin = client_at("127.0.0.2"), client_at("127.0.0.3")
    answers = [(await sign_in(attacker, "boss", f"guess {n}")).status for n in range(8)]
    assert (await sign_in(admin, "boss", "correct horse")).status == 302
    assert answers[:4] == [401] * 4 and set(answers[4:]) == {429}
    # The attacker, even with the right password, waits: it is not even checked.
    assert (await sign_in(attacker, "boss", "correct horse")).status == 429


async def test_each_further_failure_doubles_the_wait(client_at, clock):
    attacker = client_at("127.0.0.2")
    for n in range(3):  # a few mistakes cost nothing
        assert (await sign_in(attacker, "boss", f"typo {n}")).status == 401
    for wait in (2, 4, 8, 16):
        assert (await sign_in(attacker, "boss", "guess")).status == 401
        refused = await sign_in(attacker, "boss", "guess")
        assert refused.status == 429 and refused.headers["Retry-After"] == str(wait)
        assert f"Повторите через {wait} с" in await refused.text()
        clock.advance(seconds=wait - 1)
        assert (await sign_in(attacker, "boss", "guess")).status == 429
        clock.advance(seconds=1)
    assert (await sign_in(attacker, "boss", "correct horse")).status == 302


async def test_a_burst_of_parallel_guesses_is_judged_one_by_one(client_at):
    attacker = client_at("127.0.0.2")
    token = await page_token(attacker)
    form = {"login": "boss", "password": "guess", "csrf_token": token}

    async def guess() -> int:
        return (await attacker.post("/admin/login", data=form, allow_redirects=False)).status

    answers = await asyncio.gather(*(guess() for _ in range(12)))
    assert sorted(answers) == [401] * 4 + [429] * 8


async def test_spraying_many_logins_from_one_address_is_slowed_too(client_at):
    sprayer, admin = client_at("127.0.0.4"), client_at("127.0.0.5")
    for n in range(21):  # one guess for each of 21 logins: no pair reaches its limit
        assert (await sign_in(sprayer, f"user{n}", "password1")).status == 401
    assert (await sign_in(sprayer, "boss", "correct horse")).status == 429
    assert (await sign_in(admin, "boss", "correct horse")).status == 302


async def test_every_attempt_is_audited_with_its_address(client_at, container):
    attacker, admin = client_at("127.0.0.2"), client_at("127.0.0.3")
    for _ in range(5):
        await sign_in(attacker, "boss", "guess")
    await sign_in(admin, "boss", "correct horse")
    async with container.db.unit_of_work() as s:
        rows = (await s.execute(sa.select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    attempts = [
        (row.action, row.data["login"], row.data["address"])
        for row in rows
        if row.action.startswith("web.login")
    ]
    assert attempts == [
        *[("web.login_failed", "boss", "127.0.0.2")] * 4,
        ("web.login_throttled", "boss", "127.0.0.2"),
        ("web.login", "boss", "127.0.0.3"),
    ]


async def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(
    settings, clock, db, aiohttp_client
):
    behind_proxy = settings.model_copy(update={"trusted_proxies": "127.0.0.0/8"})
    container = Container.build(behind_proxy, clock=clock)
    try:
        async with container.db.unit_of_work() as s:
            await admins.create_admin(s, login="boss", password="hunter2 but long", now=clock.now())
        proxy = await aiohttp_client(build_web_app(container))
        # A client may prepend hops of its own; the proxy appends the address it really saw.
        attacker = {"X-Forwarded-For": "10.9.9.9, 203.0.113.5"}
        for n in range(4):
            assert (await sign_in(proxy, "boss", f"guess {n}", **attacker)).status == 401
        attacker["X-Forwarded-For"] = f"10.9.9.{n + 1}, 203.0.113.5"
        assert (await sign_in(proxy, "boss", "guess", **attacker)).status == 429
        admin = {"X-Forwarded-For": "198.51.100.7"}
        assert (await sign_in(proxy, "boss", "hunter2 but long", **admin)).status == 302
        async with container.db.unit_of_work() as s:
            attempts = sa.select(AuditEntry.data).where(AuditEntry.action.like("web.login%"))
            entries = (await s.execute(attempts)).scalars().all()
        addresses = {entry["address"] for entry in entries}
        assert addresses == {"203.0.113.5", "198.51.100.7"}
    finally:
        await container.close()


async def test_without_trusted_proxies_a_forwarded_for_header_changes_nothing(client_at):
    attacker = client_at("127.0.0.2")
    answers = [
        (await sign_in(attacker, "boss", "guess", **{"X-Forwarded-For": f"198.51.100.{n}"})).status
        for n in range(6)
    ]
    assert answers == [401] * 4 + [429] * 2
