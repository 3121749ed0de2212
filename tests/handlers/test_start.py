"""/start with an invite binds the employee's Telegram account."""

from __future__ import annotations

from models import Employee, Role
from services import employees
from tests.chat import deliver, drain


async def invite(container, clock, name: str = "Анна") -> tuple[int, str]:
    async with container.db.unit_of_work() as s:
        new = await employees.add(s, name=name, role=Role.EMPLOYEE, now=clock.now())
    return new.id, new.invite_code


async def say(container, fake_tg, user_id: int, text: str) -> str:
    """Everything the bot answered, as one text (answers go out through the outbox)."""
    before = len(fake_tg.calls("sendMessage"))
    await deliver(container, fake_tg.message_update(from_id=user_id, text=text, username="anna_m"))
    await drain(container)
    return "\n".join(c.params["text"] for c in fake_tg.calls("sendMessage")[before:])


async def test_opening_the_invite_link_binds_the_telegram_account(container, fake_tg, clock):
    employee_id, code = await invite(container, clock)
    reply = await say(container, fake_tg, 4242, f"/start {code}")
    assert "Анна" in reply and "привязан" in reply
    async with container.db.unit_of_work() as s:
        bound = await s.get(Employee, employee_id)
    assert (bound.telegram_id, bound.telegram_username, bound.invite_code) == (4242, "anna_m", None)
    assert "Анна" in await say(container, fake_tg, 4242, "/start")


async def test_an_invite_works_once(container, fake_tg, clock):
    _, code = await invite(container, clock)
    await say(container, fake_tg, 4242, f"/start {code}")
    reply = await say(container, fake_tg, 5353, f"/start {code}")
    assert "не найдено" in reply
    async with container.db.unit_of_work() as s:
        assert await employees.by_telegram_id(s, 5353) is None


async def test_an_expired_invite_is_refused(container, fake_tg, clock):
    _, code = await invite(container, clock)
    clock.advance(days=8)
    assert "истёк" in await say(container, fake_tg, 4242, f"/start {code}")


async def test_a_stranger_is_told_how_to_connect(container, fake_tg):
    assert "приглашение" in await say(container, fake_tg, 777, "/start")


async def test_a_name_with_html_characters_still_gets_its_welcome(container, fake_tg, clock):
    """Replies are HTML; a name like "Анна <Отдел продаж> & Co" is shown, not parsed."""
    _, code = await invite(container, clock, name="Анна <Отдел продаж> & Co")
    reply = await say(container, fake_tg, 4242, f"/start {code}")
    assert "Анна &lt;Отдел продаж&gt; &amp; Co" in reply
    assert "Анна &lt;Отдел продаж&gt; &amp; Co" in await say(container, fake_tg, 4242, "/start")
    assert {c.status for c in fake_tg.calls("sendMessage")} == {200}  # Telegram took them all
