"""Daily digests: written once per employee and local day when DIGEST_TIME comes in their zone
(however many schedulers tick, and after a late start), and rendered when sent: a manager's
digest of a fixture day is compared with the text stored in tests/fixtures/digests/."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from models import (
    CallStatus,
    DealStatus,
    Direction,
    LeadStatus,
    Office,
    OutboxMessage,
    Role,
    SalesPlan,
)
from scheduler import jobs
from services import reports
from tests import factories
from tests.chat import drain
from tests.report_data import call, deal, lead

EXPECTED = Path(__file__).parent.parent / "fixtures" / "digests"


async def digest_rows(container) -> list[OutboxMessage]:
    async with container.db.unit_of_work() as s:
        stmt = sa.select(OutboxMessage).where(OutboxMessage.kind == reports.DIGEST)
        return list((await s.execute(stmt.order_by(OutboxMessage.id))).scalars())


async def tick(container) -> str:
    return await jobs.run(jobs.by_name("send_digests"), container.db, container.company)


async def test_each_employee_gets_one_digest_a_day_when_their_time_comes(container, clock):
    # 2026-12-07 is a Monday; 08:59 in Moscow
    clock.set(datetime(2026, 12, 7, 5, 59, tzinfo=UTC))
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        await factories.employee(s, clock, name="Без телеграма", telegram=False)
        ural = await factories.employee(s, clock, name="Урал", office="Екатеринбург")
        office = (
            await s.execute(sa.select(Office).where(Office.name == "Екатеринбург"))
        ).scalar_one()
        office.timezone = "Asia/Yekaterinburg"  # two hours ahead of Moscow
    assert (await tick(container)).startswith("1 daily digests written")  # Ural: 10:59 there
    clock.advance(minutes=1)  # 09:00 in Moscow
    await tick(container)
    await asyncio.gather(tick(container), tick(container))  # two schedulers at once
    rows = await digest_rows(container)
    assert sorted(r.payload["employee_id"] for r in rows) == sorted([anna.id, ural.id])
    assert {r.payload["day"] for r in rows} == {"2026-12-07"}
    clock.advance(hours=23)  # the next day, 08:00: not yet for Moscow
    await tick(container)
    assert len(await digest_rows(container)) == 3  # Ural's next one only


async def test_a_managers_digest_reads_as_stored(container, fake_tg, clock):
    clock.set(datetime(2026, 12, 7, 6, 0, tzinfo=UTC))  # Monday 09:00 in Moscow
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        boris = await factories.employee(s, clock, name="Борис", office="Центр")
        sunday = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
        thursday = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
        await lead(s, sunday, who=anna, status=LeadStatus.TARGET, response=240)
        await lead(s, sunday, who=boris, status=LeadStatus.NEW, source="whatsapp")
        await lead(s, thursday, who=boris, status=LeadStatus.TARGET, response=3_900)
        call(s, sunday, Direction.IN, CallStatus.MISSED, who=boris, number="+79120000009")
        await deal(
            s,
            anna,
            created=thursday,
            amount=150_000,
            status=DealStatus.WON,
            closed=sunday,
            cost=50_000,
        )
        await deal(
            s,
            boris,
            created=thursday,
            amount=40_000,
            status=DealStatus.LOST,
            closed=thursday,
            reason="price",
        )
        s.add(
            SalesPlan(
                employee_id=anna.id, month=sunday.date().replace(day=1), amount=Decimal(1_000_000)
            )
        )
    await tick(container)
    await drain(container)
    [message, chart] = fake_tg.sent_messages(boss.telegram_id)  # Monday: the chart after it
    assert chart["media"] == "photo"
    expected = (EXPECTED / "manager_monday.ru.txt").read_text(encoding="utf-8")
    assert message["text"] == expected.rstrip("\n")
    buttons = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["📊 Открыть отчёт", "⚠️ Не перезвонили: 1"]


async def test_on_mondays_a_manager_also_gets_the_plan_and_fact_chart(container, fake_tg, clock):
    clock.set(datetime(2026, 12, 7, 6, 0, tzinfo=UTC))  # Monday 09:00 in Moscow
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        sunday = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
        await deal(s, anna, created=sunday, amount=150_000, status=DealStatus.WON, closed=sunday)
        s.add(
            SalesPlan(
                employee_id=anna.id, month=sunday.date().replace(day=1), amount=Decimal(1_000_000)
            )
        )
    await tick(container)
    await drain(container)
    [photo] = fake_tg.calls("sendPhoto")
    assert photo.params["chat_id"] == boss.telegram_id
    assert photo.params["caption"] == "План и факт · 12.2026"
    [(_method, name, data)] = fake_tg.uploads
    assert name == "chart.png" and data.startswith(b"\x89PNG")
    assert [m["chat_id"] for m in fake_tg.sent_messages()].count(anna.telegram_id) == 1  # text only
    clock.advance(days=1)  # Tuesday: the digest, no chart
    await tick(container)
    await drain(container)
    assert len(fake_tg.calls("sendPhoto")) == 1
