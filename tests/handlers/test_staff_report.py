"""/report in the bot: an employee sees their own numbers, a manager the office's with a line
and a button per person, for the period picked or typed; nobody sees numbers not theirs."""

from __future__ import annotations

from decimal import Decimal

from handlers.callbacks import ReportCallback
from models import CallStatus, DealStatus, Direction, LeadStatus, Role, SalesPlan
from services.reports import Preset
from tests import factories
from tests.chat import Chat
from tests.report_data import call, deal, lead


async def _day(container, clock):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        boris = await factories.employee(s, clock, name="Борис", office="Центр")
        olga = await factories.employee(s, clock, name="Ольга", office="Север")
        today = clock.now()
        await lead(s, today, who=anna, status=LeadStatus.TARGET, response=240)
        await lead(s, today, who=anna, status=LeadStatus.NEW, response=1_080)
        await lead(s, today, who=boris, status=LeadStatus.SPAM, source="whatsapp")
        await lead(s, today, who=olga)
        call(s, today, Direction.IN, CallStatus.MISSED, who=anna, number="+79120000009")
        await deal(
            s, anna, created=today, amount=150_000, status=DealStatus.WON, closed=today, cost=50_000
        )
        month = today.date().replace(day=1)
        s.add(SalesPlan(employee_id=anna.id, month=month, amount=Decimal(1_500_000)))
    return boss, anna, boris, olga


async def test_an_employee_sees_their_own_numbers_for_the_period_pressed(container, fake_tg, clock):
    _boss, anna, _boris, _olga = await _day(container, clock)
    chat = Chat(container, fake_tg, anna)
    await chat.say("/report")
    text = chat.text.replace("\xa0", " ")  # money is grouped with no-break spaces
    assert "Ваши цифры · Сегодня" in text
    assert "Лиды: 2 — новые 1 · в работе 1 · нецелевые 0 · спам 0" in text
    assert "Первый ответ: медиана 4 минуты, 90% — за 18 минут" in text
    assert "пропущено 1" in text and "не перезвонили за 15 минут: 1" in text
    assert "Выиграно: 1 на 150 000 ₽ · валовая прибыль 100 000 ₽" in text
    assert "План на" in text and "выполнено 10%" in text
    assert "Ольга" not in text and "По сотрудникам" not in text

    clock.advance(days=1)
    await chat.press("Вчера")
    assert "Вчера" in chat.text and "Лиды: 2" in chat.text
    await chat.press("Сегодня")
    assert "Лиды: 0 — " in chat.text and "выполнено 10%" in chat.text  # the month goes on


async def test_a_manager_sees_the_office_and_opens_a_person(container, fake_tg, clock):
    boss, _anna, _boris, olga = await _day(container, clock)
    chat = Chat(container, fake_tg, boss)
    await chat.say("/report")
    text = chat.text.replace("\xa0", " ")  # money is grouped with no-break spaces
    assert "Офис · Сегодня" in text
    assert "Лиды: 3" in text  # Olga's office is not his
    assert "Анна: 2 лида · выиграно 150 000 ₽" in text and "Борис: 1 лид" in text
    assert "Ольга" not in text
    await chat.press("Борис")
    assert "Борис · Сегодня" in chat.text and "спам 1" in chat.text
    await chat.press("Назад")
    assert "Офис · Сегодня" in chat.text

    # a forged button for someone of another office is refused, nothing counted
    forged = ReportCallback(preset=Preset.TODAY, who=olga.id).pack()
    assert await chat.press_data(forged) == "Эти цифры вам не видны"


async def test_someone_of_another_office_with_its_leads_opens_with_the_offices_share(
    container, fake_tg, clock
):
    boss, anna, _boris, olga = await _day(container, clock)
    async with container.db.unit_of_work() as s:  # a lead of Anna's office given to Olga
        await lead(s, clock.now(), who=olga, status=LeadStatus.TARGET, office=anna.office_id)
    chat = Chat(container, fake_tg, boss)
    await chat.say("/report")
    assert "Ольга: 1 лид" in chat.text
    await chat.press("Ольга")
    assert "Ольга · Сегодня" in chat.text
    assert "Лиды: 1 — новые 0 · в работе 1" in chat.text  # not her own office's lead


async def test_typed_dates_and_what_is_refused(container, fake_tg, clock):
    _boss, anna, _boris, _olga = await _day(container, clock)
    chat = Chat(container, fake_tg, anna)
    day = clock.now().astimezone(container.company.timezone).date()
    await chat.say(f"/report {day:%d.%m} {day:%d.%m.%Y}")
    assert f"{day:%d.%m.%Y}" in chat.text and "Лиды: 2" in chat.text
    await chat.say("/report 31.02")
    assert "Не понял даты" in chat.text
    await chat.say("/report 02.12.2026 01.12.2026")
    assert "Конец периода раньше начала" in chat.text
    assert await chat.press_data("rp:decade:0") == "Не найдено"  # a forged period


async def test_the_sources_view_lists_where_the_leads_came_from(container, fake_tg, clock):
    boss, _anna, _boris, _olga = await _day(container, clock)
    chat = Chat(container, fake_tg, boss)
    await chat.say("/report")
    await chat.press("Источники")
    text = chat.text.replace("\xa0", " ")
    assert "Источники · Сегодня" in text
    assert "form:site: 2 лида, целевых 50% · сделок 0, выиграно 0 на 0 ₽" in text
    assert "whatsapp: 1 лид, целевых 0%" in text
    await chat.press("Назад")
    assert "Офис · Сегодня" in chat.text


async def test_plan_and_fact_of_the_month_per_person(container, fake_tg, clock):
    boss, _anna, _boris, _olga = await _day(container, clock)
    chat = Chat(container, fake_tg, boss)
    await chat.say("/report")
    await chat.press("План")
    text = chat.text.replace("\xa0", " ")
    assert "План и факт" in text
    assert "Анна: 150 000 ₽ из 1 500 000 ₽ — 10% · прогноз" in text
    assert "Борис: 0 ₽, плана нет" in text
    assert "Итого: 150 000 ₽ из 1 500 000 ₽ — 10%" in text


async def test_the_funnel_view_shows_each_stage(container, fake_tg, clock):
    boss, _anna, _boris, _olga = await _day(container, clock)
    chat = Chat(container, fake_tg, boss)
    await chat.say("/report")
    await chat.press("Воронка")
    text = chat.text
    assert "Воронка сделок · Сегодня" in text
    assert "Неразобранное: 1\nПервичный контакт: 1 · 100% от прошлого этапа" in text
    assert "Успешно реализовано: 1 · 100% от прошлого этапа" in text  # the deal was won


async def test_the_funnel_of_each_pipeline_is_a_button_away(container, fake_tg, clock):
    from tests.report_data import second_pipeline

    boss, anna, _boris, _olga = await _day(container, clock)
    async with container.db.unit_of_work() as s:
        service = await second_pipeline(s)
        for won in (False, True):
            await deal(
                s,
                anna,
                created=clock.now(),
                amount=9_000,
                pipeline_id=service,
                status=DealStatus.WON if won else DealStatus.OPEN,
                closed=clock.now() if won else None,
            )
    chat = Chat(container, fake_tg, boss)
    await chat.say("/report")
    await chat.press("Воронка")
    assert "Успешно реализовано: 1" in chat.text and "Выезд" not in chat.text
    await chat.press("Сервис")
    text = chat.text
    assert "Сервис" in text and "Неразобранное" not in text
    assert "Заявка: 2\nВыезд: 2 · 100% от прошлого этапа\nСделано: 1 · 50%" in text
    await chat.press("Вчера")  # another period keeps the pipeline
    assert "Воронка сделок · Вчера" in chat.text and "Заявка: 0" in chat.text


async def test_the_lists_behind_the_digest_numbers(container, fake_tg, clock):
    from handlers.callbacks import ReportView

    boss, anna, _boris, _olga = await _day(container, clock)
    async with container.db.unit_of_work() as s:
        await deal(s, anna, created=clock.now(), amount=5_000)
    clock.advance(days=8)  # a week and a day later: the open deal is stuck
    chat = Chat(container, fake_tg, boss)
    await chat.say("/report")
    missed = ReportCallback(preset=Preset.YESTERDAY, view=ReportView.MISSED).pack()
    clock.advance(days=-7)  # back to the day after the fixture day: yesterday had the call
    await chat.press_data(missed, chat.last)
    text = chat.text
    assert "Не перезвонили за 15 минут" in text and "+79120000009 · Анна" in text
    clock.advance(days=7)
    stuck = ReportCallback(preset=Preset.TODAY, view=ReportView.STUCK).pack()
    await chat.press_data(stuck, chat.last)
    assert "Без движения дольше срока этапа: 1" in chat.text
    assert "«Окна» · Первичный контакт · Анна · 8 дней без движения" in chat.text
