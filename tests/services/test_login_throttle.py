"""The sign-in brake's arithmetic: doubling waits, a cap, forgetting, and what unlock clears."""

from __future__ import annotations

from datetime import timedelta

from services import login_throttle

ATTACKER, OFFICE = "203.0.113.5", "198.51.100.7"


async def fail(session, clock, login: str, address: str, times: int = 1) -> int:
    for _ in range(times):
        await login_throttle.record_failure(session, login=login, address=address, now=clock.now())
    return await login_throttle.wait_left(session, login=login, address=address, now=clock.now())


async def test_the_wait_doubles_up_to_ten_minutes_and_is_forgotten_after_an_hour(session, clock):
    assert await fail(session, clock, "boss", ATTACKER, times=3) == 0
    assert [await fail(session, clock, "boss", ATTACKER) for _ in range(4)] == [2, 4, 8, 16]
    assert await fail(session, clock, "boss", ATTACKER, times=30) == 600  # capped
    clock.advance(hours=1, seconds=1)
    assert await fail(session, clock, "boss", ATTACKER) == 0  # counting starts again


async def test_unlock_clears_the_login_everywhere_but_not_other_logins(session, clock):
    await fail(session, clock, "boss", ATTACKER, times=6)
    await fail(session, clock, "boss", OFFICE, times=6)
    for n in range(25):  # the office address also sprayed other logins
        await fail(session, clock, f"user{n}", OFFICE)
    await fail(session, clock, "anna", "192.0.2.1", times=6)
    assert await login_throttle.unlock(session, "boss") > 0
    now = clock.now()
    for address in (ATTACKER, OFFICE):
        assert await login_throttle.wait_left(session, login="boss", address=address, now=now) == 0
    assert await login_throttle.wait_left(session, login="anna", address="192.0.2.1", now=now) > 0


def test_the_waits_grow_as_powers_of_two_after_the_free_failures() -> None:
    waits = [login_throttle.delay_after(n, free=3) for n in range(3, 9)]
    assert waits == [timedelta(seconds=s) for s in (0, 2, 4, 8, 16, 32)]
    assert login_throttle.delay_after(10_000, free=3) == login_throttle.MAX_DELAY
