"""Broadcasts through the real outbox to the fake WhatsApp and Telegram: who gets one and
who does not (and why), text inside WhatsApp's window and the template outside it, one
message per client across a restart, progress a manager can trust."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from models import BroadcastRecipient, Channel, ClientTag, Message, MessageStatus, Role
from services import broadcasts
from services.broadcasts import Draft, Segment
from services.errors import InvalidInput, NotFound
from tests.broadcasts.conftest import admin, client_by_form
from tests.chat import deliver, drain
from tests.conversations.support import post


async def tag(container, client_id: int, *tags: str) -> None:
    async with container.db.unit_of_work() as s:
        s.add_all([ClientTag(client_id=client_id, tag=t) for t in tags])


async def start(container, by, draft: Draft) -> int:
    async with container.db.unit_of_work() as s:
        return await broadcasts.start(s, draft, by=by, company=container.company)


async def size(container, segment: Segment, *, template: bool = False) -> dict[str, int]:
    async with container.db.unit_of_work() as s:
        return await broadcasts.size(
            s, segment, has_template=template, now=container.company.clock.now()
        )


async def progress(container, broadcast_id: int, by) -> broadcasts.BroadcastView:
    async with container.db.unit_of_work() as s:
        return await broadcasts.view(s, broadcast_id, by=by)


async def whatsapp_base(web, container, fake_wa):
    """Five clients tagged "vip" and one not:
    - Ирина wrote on WhatsApp an hour ago (inside the 24-hour window);
    - Олег wrote, then sent STOP (opted out);
    - Павел filled in a site form: a phone, never a WhatsApp message;
    - Софья wrote two days ago (outside the window);
    - Глеб came by e-mail only: nothing to send to on WhatsApp;
    - Фёдор (no tag) wrote an hour ago."""
    clock = container.company.clock
    await post(web, fake_wa, fake_wa.text("79161110001", "Добрый день", name="Софья"))
    clock.advance(hours=47)
    for wa, name in (("79161110002", "Ирина"), ("79161110003", "Олег"), ("79161110009", "Фёдор")):
        await post(web, fake_wa, fake_wa.text(wa, "Здравствуйте", name=name))
    await post(web, fake_wa, fake_wa.text("79161110003", "STOP", name="Олег"))
    clock.advance(hours=1)
    pavel = await client_by_form(container, "+79161110004", "Павел")
    async with container.db.unit_of_work() as s:
        from services import leads

        gleb = await leads.register_incoming(
            s,
            leads.LeadIn(source="form:site", email="gleb@example.com", name="Глеб"),
            company=container.company,
        )
    async with container.db.unit_of_work() as s:
        rows = await s.execute(
            sa.text("select id, name from clients where merged_into_id is null order by id")
        )
        ids = {name: client_id for client_id, name in rows.all()}
    assert ids["Павел"] == pavel and ids["Глеб"] == gleb.client_id
    for name in ("Ирина", "Олег", "Павел", "Софья", "Глеб"):
        await tag(container, ids[name], "vip")
    await tag(container, ids["Фёдор"], "other")
    fake_wa.sent.clear()
    return ids


async def test_the_size_shows_who_gets_it_and_who_does_not_and_why(web, container, fake_wa):
    await whatsapp_base(web, container, fake_wa)
    vip = Segment(Channel.WHATSAPP, tags=("vip",))
    # Without a template, only Ирина (inside the window) can be written to.
    assert await size(container, vip) == {
        "send": 1,
        "needs_template": 2,  # Павел never wrote, Софья wrote two days ago
        "opted_out": 1,
        "no_address": 1,
    }
    # With one, Павел and Софья get the template.
    assert (await size(container, vip, template=True))["send"] == 3


async def test_whatsapp_text_inside_the_window_and_the_template_outside(web, container, fake_wa):
    ids = await whatsapp_base(web, container, fake_wa)
    boss = await admin(container, name="Вера", role=Role.ADMIN)
    draft = Draft(Segment(Channel.WHATSAPP, tags=("vip",)), "Весенняя скидка 20%", "spring_sale")
    broadcast_id = await start(container, boss, draft)
    await drain(container)
    by_to = {s.body["to"]: s.body for s in fake_wa.sent}
    assert set(by_to) == {"79161110002", "79161110004", "79161110001"}  # Ирина, Павел, Софья
    assert by_to["79161110002"]["text"]["body"] == "Весенняя скидка 20%"
    assert by_to["79161110004"]["template"] == {"name": "spring_sale", "language": {"code": "ru"}}
    assert by_to["79161110001"]["type"] == "template"
    # Each sent message is in the client's history, marked as the broadcast's.
    async with container.db.unit_of_work() as s:
        mine = (
            (await s.execute(sa.select(Message).where(Message.broadcast_id == broadcast_id)))
            .scalars()
            .all()
        )
    assert len(mine) == 3 and {m.status for m in mine} == {MessageStatus.SENT}
    view = await progress(container, broadcast_id, boss)
    assert view.counts == {"send": 3, "needs_template": 0, "opted_out": 1, "no_address": 1}
    assert (view.progress.sent, view.progress.waiting, view.progress.done) == (3, 0, True)
    # WhatsApp's receipts move the counts: two delivered (one read), one failed.
    wamids = {s.body["to"]: s.wamid for s in fake_wa.sent}
    await post(
        web,
        fake_wa,
        statuses=[
            fake_wa.status(wamids["79161110002"], "delivered"),
            fake_wa.status(wamids["79161110002"], "read"),
            fake_wa.status(wamids["79161110001"], "delivered"),
            fake_wa.status(wamids["79161110004"], "failed", code=131026),
        ],
    )
    view = await progress(container, broadcast_id, boss)
    assert (view.progress.delivered, view.progress.failed, view.progress.sent) == (2, 1, 0)
    assert ids["Олег"] not in await recipients(container, broadcast_id, "send")


async def recipients(container, broadcast_id: int, outcome: str) -> set[int]:
    async with container.db.unit_of_work() as s:
        rows = await s.execute(
            sa.select(BroadcastRecipient.client_id).where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.outcome == outcome,
            )
        )
        return set(rows.scalars())


async def test_the_audience_is_frozen_at_start(web, container, fake_wa):
    ids = await whatsapp_base(web, container, fake_wa)
    boss = await admin(container, name="Вера", role=Role.ADMIN)
    vip = Segment(Channel.WHATSAPP, tags=("vip",))
    broadcast_id = await start(container, boss, Draft(vip, "Скидка", "spring_sale"))
    # A client tagged after the start is not in it; nobody is sent anything twice.
    late = await client_by_form(container, "+79161110005", "Поздний")
    await tag(container, late, "vip")
    await drain(container)
    assert late not in await recipients(container, broadcast_id, "send")
    assert sorted(s.body["to"] for s in fake_wa.sent) == [
        "79161110001",
        "79161110002",
        "79161110004",
    ]
    assert ids["Ирина"] in await recipients(container, broadcast_id, "send")


async def test_a_restart_mid_broadcast_sends_nobody_anything_twice(web, container, fake_wa):
    boss = await admin(container, name="Вера", role=Role.ADMIN)
    for i in range(40):
        await tag(container, await client_by_form(container, f"+7916222{i:04d}", f"К{i}"), "b")
    broadcast_id = await start(
        container, boss, Draft(Segment(Channel.WHATSAPP, tags=("b",)), "x", "spring_sale")
    )
    pump = container.pump
    pump.start()
    await fake_wa.wait_sent(10)
    await pump.stop()  # the process goes down mid-burst
    stopped_at = len(fake_wa.sent)
    assert stopped_at < 40
    second = container.make_pump(poll_interval=0.05)  # the next process
    second.start()
    try:
        await fake_wa.wait_sent(40, timeout=10)
        await asyncio.sleep(0.3)
    finally:
        await second.stop()
    to = [s.body["to"] for s in fake_wa.sent]
    assert len(to) == 40 and len(set(to)) == 40
    view = await progress(container, broadcast_id, boss)
    assert (view.progress.sent, view.progress.waiting) == (40, 0)


async def test_telegram_broadcast_reaches_those_who_wrote_to_the_bot(container, fake_tg):
    boss = await admin(container, name="Вера", role=Role.ADMIN)
    for user_id, name in ((7001, "Анна"), (7002, "Борис"), (7003, "Вика")):
        await deliver(
            container, fake_tg.message_update(from_id=user_id, text="Здравствуйте", first_name=name)
        )
    await deliver(container, fake_tg.message_update(from_id=7003, text="стоп", first_name="Вика"))
    await drain(container)
    fake_tg.fail_chat(7002, status=403, description="Forbidden: bot was blocked by the user")
    before = len(fake_tg.calls("sendMessage"))
    broadcast_id = await start(
        container, boss, Draft(Segment(Channel.TELEGRAM), "Мы открылись в субботу")
    )
    await drain(container)
    new = fake_tg.calls("sendMessage")[before:]
    got = {c.params["chat_id"]: c.params["text"] for c in new if c.status == 200}
    assert got == {7001: "Мы открылись в субботу"}
    # The blocked one is counted as failed with the reason; Вера is not told in Telegram.
    view = await progress(container, broadcast_id, boss)
    assert (view.progress.sent, view.progress.failed) == (1, 1)
    assert "blocked" in view.progress.reasons[0][0]
    assert view.counts["opted_out"] == 1
    assert {c.params["chat_id"] for c in new} == {7001, 7002}  # no notice to anyone else


async def test_a_manager_reaches_their_office_only(web, container, fake_wa):
    north = await admin(container, name="Нина", role=Role.MANAGER, office="Север")
    south = await admin(container, name="Юрий", role=Role.MANAGER, office="Юг")
    for office, phone in (("Север", "+79163330001"), ("Юг", "+79163330002")):
        client_id = await client_by_form(container, phone, office)
        async with container.db.unit_of_work() as s:
            office_id = (
                await s.execute(sa.text("select id from offices where name = :n"), {"n": office})
            ).scalar_one()
            await s.execute(
                sa.text("update clients set office_id = :o where id = :c"),
                {"o": office_id, "c": client_id},
            )
    broadcast_id = await start(
        container, north, Draft(Segment(Channel.WHATSAPP), "x", "spring_sale")
    )
    await drain(container)
    assert [s.body["to"] for s in fake_wa.sent] == ["79163330001"]
    with pytest.raises(NotFound):
        await progress(container, broadcast_id, south)


@pytest.mark.parametrize(
    ("text", "template", "key"),
    [
        ("   ", None, "broadcast.error.empty"),
        ("x" * 4097, None, "broadcast.error.too_long"),
        ("ok", "not_approved", "broadcast.error.template"),
        ("ok", None, "broadcast.error.nobody"),  # every client is outside the window
    ],
)
async def test_a_broadcast_that_cannot_go_writes_nothing(container, text, template, key):
    boss = await admin(container, name="Вера", role=Role.ADMIN)
    await client_by_form(container, "+79165550001", "Тихий")  # a phone, never wrote
    with pytest.raises(InvalidInput) as refused:
        await start(container, boss, Draft(Segment(Channel.WHATSAPP), text, template))
    assert refused.value.key == key
    async with container.db.unit_of_work() as s:
        assert (await s.execute(sa.text("select count(*) from broadcasts"))).scalar_one() == 0
        assert (await s.execute(sa.text("select count(*) from messages"))).scalar_one() == 0
