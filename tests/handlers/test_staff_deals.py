"""Deals in Telegram, typed and tapped as an employee does: a deal from a client card or a lead,
walked through the stages to won or to lost, priced in the words people use; /deals by stage;
managers' views of the office; stages that are rows, not code; and every refusal."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from config.i18n import translate
from handlers.callbacks import DealAction, DealCallback, ListCallback, ListView, NewDealCallback
from models import (
    AuditEntry,
    Client,
    Deal,
    DealStageChange,
    DealStatus,
    Note,
    Office,
    Pipeline,
    PipelineStage,
    Role,
    StageKind,
)
from services import deals, employees, leads
from services.actors import Actor
from tests import factories
from tests.chat import Chat, labels

# What a deactivated employee is told (handlers.strangers, former employees).
NO_ACCESS = translate("ru", "menu.former.no_access")

NOW = datetime(2025, 12, 3, 9, 0, tzinfo=UTC)
NBSP = "\u00a0"


def seen(chat: Chat) -> str:
    """The newest message as the person reads it (markup gone, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", chat.text))


def rub(amount: str) -> str:
    """As the card prints money: "150 000 ₽" with no-break spaces."""
    return amount.replace(" ", NBSP) + f"{NBSP}₽"


@pytest.fixture
async def people(container, clock):
    """Anna and Boris sell in Kazan, Vera manages Kazan, Max manages Moscow (and sells there)."""
    clock.set(NOW)
    async with container.db.unit_of_work() as s:
        found = {
            "anna": await factories.employee(s, clock, name="Анна", office="Казань"),
            "boris": await factories.employee(s, clock, name="Борис", office="Казань"),
            "vera": await factories.employee(
                s, clock, name="Вера", office="Казань", role=Role.MANAGER
            ),
            "max": await factories.employee(
                s, clock, name="Макс", office="Москва", role=Role.MANAGER
            ),
            "admin": await factories.employee(s, clock, name="Админ", role=Role.ADMIN),
        }
    return found


async def a_client(container, owner, name: str = "Иван Петров") -> int:
    async with container.db.unit_of_work() as s:
        client = Client(name=name, owner_id=owner.id, office_id=owner.office_id)
        s.add(client)
        await s.flush()
        return client.id


async def a_deal(container, owner, client_id: int, amount: str | None = None) -> int:
    async with container.db.unit_of_work() as s:
        by = Actor.of(owner)
        deal = await deals.create_for_client(s, client_id, by=by, company=container.company)
        if amount:
            await deals.set_amount(s, deal.id, amount, by=by, company=container.company)
        return deal.id


async def the_deal(container, deal_id: int) -> Deal:
    async with container.db.unit_of_work() as s:
        deal = await s.get(Deal, deal_id)
        assert deal is not None
        return deal


async def moves(container, deal_id: int) -> list[tuple[int | None, int, int | None]]:
    async with container.db.unit_of_work() as s:
        rows = await s.execute(
            sa.select(
                DealStageChange.from_stage_id, DealStageChange.to_stage_id, DealStageChange.by_id
            )
            .where(DealStageChange.deal_id == deal_id)
            .order_by(DealStageChange.id)
        )
        return [tuple(r) for r in rows]


async def stage_id(container, name: str) -> int:
    async with container.db.unit_of_work() as s:
        found = await s.scalar(sa.select(PipelineStage.id).where(PipelineStage.name == name))
        assert found is not None
        return found


def deal_button(action: DealAction, deal_id: int, arg: int = 0) -> str:
    return DealCallback(action=action, deal_id=deal_id, arg=arg).pack()


async def opened(chat: Chat, deal_id: int) -> str | None:
    """Open the deal's card (from /deals, as from any message with buttons)."""
    await chat.say("/deals")
    return await chat.press_data(deal_button(DealAction.OPEN, deal_id), chat.last)


async def test_a_deal_from_a_client_card_is_priced_and_walked_to_won(container, fake_tg, people):
    anna = Chat(container, fake_tg, people["anna"])
    client_id = await a_client(container, people["anna"])
    await anna.say("/deals")
    await anna.press_data(NewDealCallback(client_id=client_id).pack(), anna.last)
    assert "Иван Петров" in seen(anna) and "Первичный контакт" in seen(anna)
    assert "Ответственный: Анна" in seen(anna)

    await anna.press("Сумма")
    assert "Напишите сумму" in seen(anna)
    await anna.say("150 000 ₽")
    await anna.press("Себестоимость")
    await anna.say("90 000,50")
    assert f"Сумма: {rub('150 000')}" in seen(anna)
    assert f"Себестоимость: {rub('90 000,5')}" in seen(anna)
    assert f"Валовая прибыль: {rub('59 999,5')}" in seen(anna)

    await anna.press("Этап")
    stages = labels(anna.last)
    assert "● Первичный контакт" in stages and "Переговоры" in stages
    assert not any("Успешно" in label for label in stages)  # won and lost have own buttons
    assert await anna.press("Переговоры") == "Этап: Переговоры"
    assert "Этап: Переговоры" in seen(anna)
    assert await anna.press("Выиграна") == "Сделка выиграна 🎉"
    assert "✅ Успешно" in seen(anna) and "↩️ Вернуть в работу" in labels(anna.last)

    [deal] = await all_deals(container)
    assert deal.status is DealStatus.WON and deal.amount == Decimal("150000")
    assert deal.cost == Decimal("90000.50") and deal.owner_id == people["anna"].id
    first, talks, won = [await stage_id(container, n) for n in FIRST_TALKS_WON]
    anna_id = people["anna"].id
    assert await moves(container, deal.id) == [
        (None, first, anna_id),
        (first, talks, anna_id),
        (talks, won, anna_id),
    ]
    await anna.press("История")
    assert "создана на этапе «Первичный контакт» · Анна" in seen(anna)
    assert "Переговоры → Успешно реализовано · Анна" in seen(anna)


FIRST_TALKS_WON = ("Первичный контакт", "Переговоры", "Успешно реализовано")


async def all_deals(container) -> list[Deal]:
    async with container.db.unit_of_work() as s:
        return list((await s.execute(sa.select(Deal).order_by(Deal.id))).scalars())


async def test_every_change_is_audited_before_and_after(container, fake_tg, people):
    anna = Chat(container, fake_tg, people["anna"])
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    await opened(anna, deal_id)
    await anna.press("Сумма")
    await anna.say("150000")
    await anna.press("Выиграна")
    async with container.db.unit_of_work() as s:
        rows = await s.execute(
            sa.select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.data)
            .where(AuditEntry.entity_type == "deal", AuditEntry.entity_id == deal_id)
            .order_by(AuditEntry.id)
        )
        entries = {action: (actor, data) for action, actor, data in rows}
    assert entries["deal.amount"] == (
        people["anna"].id,
        {"changes": {"amount": [None, "150000.00"]}},
    )
    actor, won = entries["deal.won"]
    assert actor == people["anna"].id and won["changes"]["status"] == ["open", "won"]
    assert "deal.created" in entries


async def test_a_deal_is_lost_for_a_reason_picked_or_typed_and_can_be_reopened(
    container, fake_tg, people
):
    anna = Chat(container, fake_tg, people["anna"])
    client_id = await a_client(container, people["anna"])
    first = await a_deal(container, people["anna"], client_id)
    second = await a_deal(container, people["anna"], client_id)

    await opened(anna, first)
    await anna.press("Проиграна")
    assert "Почему сделка" in seen(anna)
    assert await anna.press("Дорого") == "Сделка проиграна"
    assert "❌ Проиграна" in seen(anna) and "Причина проигрыша: Дорого" in seen(anna)
    assert (await the_deal(container, first)).lost_reason == "price"

    await opened(anna, second)
    await anna.press("Проиграна")
    await anna.press("Другое…")
    await anna.say("/cancel")
    assert (await the_deal(container, second)).status is DealStatus.OPEN
    await opened(anna, second)
    await anna.press("Проиграна")
    await anna.press("Другое…")
    await anna.say("Купили у соседей <b>дешевле</b>")
    assert "Купили у соседей &lt;b&gt;дешевле&lt;/b&gt;" in anna.text  # escaped, not markup
    assert "Причина проигрыша: Купили у соседей <b>дешевле</b>" in seen(anna)
    lost = await the_deal(container, second)
    assert lost.status is DealStatus.LOST
    assert lost.lost_reason == "other: Купили у соседей <b>дешевле</b>"

    await anna.press("Вернуть в работу")
    reopened = await the_deal(container, second)
    assert reopened.status is DealStatus.OPEN and reopened.lost_reason is None
    assert reopened.stage_id == await stage_id(container, "Первичный контакт")
    assert "Этап: Первичный контакт" in seen(anna)


async def test_a_mistyped_amount_is_explained_and_the_dialog_waits(container, fake_tg, people):
    anna = Chat(container, fake_tg, people["anna"])
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    await opened(anna, deal_id)
    await anna.press("Сумма")
    await anna.say("1.5k")
    assert "Не понял сумму" in seen(anna)
    await anna.say("-100")
    assert "не может быть отрицательной" in seen(anna)
    await anna.say("150 000 руб")
    assert f"Сумма: {rub('150 000')}" in seen(anna)
    assert (await the_deal(container, deal_id)).amount == Decimal("150000")


async def test_a_note_on_a_deal_lands_on_the_deal_and_its_client(container, fake_tg, people):
    anna = Chat(container, fake_tg, people["anna"])
    client_id = await a_client(container, people["anna"])
    deal_id = await a_deal(container, people["anna"], client_id)
    await opened(anna, deal_id)
    await anna.press("Заметка")
    await anna.say("Перезвонить после праздников")
    assert any("Заметка добавлена" in m["text"] for m in anna.messages)
    async with container.db.unit_of_work() as s:
        [note] = (await s.execute(sa.select(Note))).scalars()
    assert (note.deal_id, note.client_id, note.author_id) == (
        deal_id,
        client_id,
        people["anna"].id,
    )
    assert note.text == "Перезвонить после праздников"


async def test_a_deal_from_a_lead_is_the_lead_s_deal(container, fake_tg, people):
    async with container.db.unit_of_work() as s:
        got = await leads.register_incoming(
            s,
            leads.LeadIn(source="form:site", phone="+79120001122", name="Ольга", office="Казань"),
            company=container.company,
        )
        await leads.assign(s, got.lead_id, to=people["anna"].id, by=None, company=container.company)
    anna = Chat(container, fake_tg, people["anna"])
    await anna.say("/deals")
    press = NewDealCallback(client_id=got.client_id, lead_id=got.lead_id).pack()
    await anna.press_data(press, anna.last)
    assert "💼 Ольга" in seen(anna) and "Клиент: Ольга" in seen(anna)
    await anna.press_data(press, anna.last)  # a second press opens the same deal
    [deal] = await all_deals(container)
    assert deal.lead_id == got.lead_id and deal.owner_id == people["anna"].id
    assert [m[0] for m in await moves(container, deal.id)] == [None]

    boris = Chat(container, fake_tg, people["boris"])
    await boris.say("/deals")
    assert "ответственный" in (await boris.press_data(press, boris.last) or "")


async def test_take_opens_a_deal_with_its_first_stage_change(container, fake_tg, people):
    async with container.db.unit_of_work() as s:
        got = await leads.register_incoming(
            s,
            leads.LeadIn(source="form:site", phone="+79120001133", name="Пётр", office="Казань"),
            company=container.company,
        )
        await leads.assign(s, got.lead_id, to=people["anna"].id, by=None, company=container.company)
        await leads.take(s, got.lead_id, by=Actor.of(people["anna"]), company=container.company)
    [deal] = await all_deals(container)
    working = await stage_id(container, "Первичный контакт")
    assert await moves(container, deal.id) == [(None, working, people["anna"].id)]
    async with container.db.unit_of_work() as s:
        created = await s.scalar(
            sa.select(AuditEntry.actor_id).where(
                AuditEntry.action == "deal.created", AuditEntry.entity_id == deal.id
            )
        )
    assert created == people["anna"].id
    anna = Chat(container, fake_tg, people["anna"])
    await opened(anna, deal.id)
    assert "создана на этапе «Первичный контакт» · Анна" in seen(anna)


async def test_my_deals_count_and_sum_by_stage(container, fake_tg, people):
    client_id = await a_client(container, people["anna"])
    one = await a_deal(container, people["anna"], client_id, "100 000")
    await a_deal(container, people["anna"], client_id, "50 000,50")
    await a_deal(container, people["boris"], await a_client(container, people["boris"]), "7")
    talks = await stage_id(container, "Переговоры")
    async with container.db.unit_of_work() as s:
        anna = Actor.of(people["anna"])
        await deals.move_to_stage(s, one, talks, by=anna, company=container.company)
        third = await deals.create_for_client(s, client_id, by=anna, company=container.company)
        await deals.set_amount(s, third.id, "1 000", by=anna, company=container.company)
        await deals.win(s, third.id, by=anna, company=container.company)

    chat = Chat(container, fake_tg, people["anna"])
    await chat.say("/deals")
    assert "Мои сделки" in seen(chat)
    assert f"Первичный контакт: 1 сделка · {rub('50 000,5')}" in seen(chat)
    assert f"Переговоры: 1 сделка · {rub('100 000')}" in seen(chat)
    assert f"Успешно реализовано: 1 сделка · {rub('1 000')}" in seen(chat)
    assert f"Неразобранное: 0 сделок · {rub('0')}" in seen(chat)
    assert f"В работе: 2 сделки · {rub('150 000,5')}" in seen(chat)
    assert "По сотрудникам" not in " ".join(labels(chat.last))  # not a manager

    await chat.press("Переговоры (1)")
    assert "Переговоры" in seen(chat)
    await chat.press("Иван Петров")
    assert f"Сумма: {rub('100 000')}" in seen(chat)


async def test_a_manager_sees_the_office_by_stage_and_by_employee(container, fake_tg, people):
    await a_deal(container, people["anna"], await a_client(container, people["anna"]), "100")
    await a_deal(container, people["anna"], await a_client(container, people["anna"]), "200")
    await a_deal(container, people["boris"], await a_client(container, people["boris"]), "5")
    await a_deal(container, people["max"], await a_client(container, people["max"]), "999")

    vera = Chat(container, fake_tg, people["vera"])
    await vera.say("/deals")
    assert f"В работе: 0 сделок · {rub('0')}" in seen(vera)  # her own: none
    await vera.press("Офис по этапам")
    assert "Сделки офиса" in seen(vera)
    assert f"Первичный контакт: 3 сделки · {rub('305')}" in seen(vera)  # not Moscow's
    await vera.press("По сотрудникам")
    assert f"Анна: 2 сделки · {rub('300')}" in seen(vera)
    assert f"Борис: 1 сделка · {rub('5')}" in seen(vera)
    assert "Макс" not in seen(vera)
    await vera.press("Анна (2)")
    assert "Сделки: Анна" in seen(vera)
    await vera.press("Первичный контакт (2)")
    assert len([label for label in labels(vera.last) if "Иван Петров" in label]) == 2

    admin = Chat(container, fake_tg, people["admin"])
    await admin.say("/deals")
    await admin.press("Офис по этапам")
    assert "Все сделки" in seen(admin)
    assert f"Первичный контакт: 4 сделки · {rub('1 304')}" in seen(admin)


async def test_a_renamed_or_added_stage_shows_up_without_code(container, fake_tg, people):
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    async with container.db.unit_of_work() as s:
        await s.execute(
            sa.update(PipelineStage)
            .where(PipelineStage.name == "Переговоры")
            .values(name="Встреча в офисе")
        )
        pipeline_id = await deals.default_pipeline_id(s)
        s.add(PipelineStage(pipeline_id=pipeline_id, name="Демо", position=20))
    anna = Chat(container, fake_tg, people["anna"])
    await opened(anna, deal_id)
    await anna.press("Этап")
    stages = labels(anna.last)
    assert "Встреча в офисе" in stages and "Демо" in stages
    assert "Переговоры" not in stages
    assert await anna.press("Демо") == "Этап: Демо"
    await anna.say("/deals")
    assert "Демо: 1 сделка" in seen(anna) and "Встреча в офисе: 0 сделок" in seen(anna)


async def test_another_employee_or_office_cannot_touch_a_deal(container, fake_tg, people):
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    before = await the_deal(container, deal_id)
    for who in ("boris", "max"):
        chat = Chat(container, fake_tg, people[who])
        await chat.say("/deals")
        for action in (DealAction.OPEN, DealAction.WON, DealAction.AMOUNT, DealAction.HISTORY):
            alert = await chat.press_data(deal_button(action, deal_id), chat.last)
            assert (
                alert
                == "Эта сделка не ваша: работать с ней может ответственный или руководитель офиса"
            )
        await chat.say("150 000")  # no dialog was started: nothing is set
    after = await the_deal(container, deal_id)
    assert (after.status, after.amount, after.stage_id) == (
        before.status,
        before.amount,
        before.stage_id,
    )
    vera = Chat(container, fake_tg, people["vera"])  # the office's manager may
    await opened(vera, deal_id)
    assert await vera.press("Выиграна") == "Сделка выиграна 🎉"


async def test_forged_deal_and_stage_buttons_change_nothing(container, fake_tg, people):
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    async with container.db.unit_of_work() as s:
        other = Pipeline(name="Аренда")
        s.add(other)
        await s.flush()
        foreign = PipelineStage(pipeline_id=other.id, name="Чужой этап", position=1)
        s.add(foreign)
        await s.flush()
        foreign_id = foreign.id
    won_id = await stage_id(container, "Успешно реализовано")
    anna = Chat(container, fake_tg, people["anna"])
    await anna.say("/deals")
    bad_stage = "Такого этапа нет в воронке этой сделки"
    for stage in (foreign_id, won_id, 9_000_000):
        assert await anna.press_data(deal_button(DealAction.STAGE, deal_id, stage)) == bad_stage
    assert await anna.press_data(deal_button(DealAction.OPEN, 9_000_000)) == "Сделка не найдена"
    assert await anna.press_data(deal_button(DealAction.LOST, deal_id, 99)) == "Такой причины нет"
    deal = await the_deal(container, deal_id)
    assert deal.status is DealStatus.OPEN
    assert deal.stage_id == await stage_id(container, "Первичный контакт")
    assert len(await moves(container, deal_id)) == 1


async def test_an_employee_cannot_list_the_office_or_a_colleague(container, fake_tg, people):
    await a_deal(container, people["anna"], await a_client(container, people["anna"]), "100")
    boris = Chat(container, fake_tg, people["boris"])
    await boris.say("/deals")
    no = "Эта сделка не ваша: работать с ней может ответственный или руководитель офиса"
    forged = [
        ListCallback(view=ListView.OFFICE_DEALS),
        ListCallback(view=ListView.DEALS_BY_EMPLOYEE),
        ListCallback(view=ListView.MY_DEALS, employee_id=people["anna"].id),
        ListCallback(
            view=ListView.STAGE_DEALS,
            stage_id=await stage_id(container, "Первичный контакт"),
            employee_id=people["anna"].id,
        ),
    ]
    for data in forged:
        assert await boris.press_data(data.pack(), boris.last) == no
    max_ = Chat(container, fake_tg, people["max"])  # another office's manager
    await max_.say("/deals")
    mine = ListCallback(view=ListView.MY_DEALS, employee_id=people["anna"].id).pack()
    assert await max_.press_data(mine, max_.last) == no


async def test_closing_stages_missing_is_a_clear_refusal(container, fake_tg, people):
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    async with container.db.unit_of_work() as s:
        await s.execute(
            sa.update(PipelineStage)
            .where(PipelineStage.kind == StageKind.WON)
            .values(kind=StageKind.OPEN)
        )
    anna = Chat(container, fake_tg, people["anna"])
    await opened(anna, deal_id)
    assert await anna.press("Выиграна") == "В воронке нет нужного этапа"


async def test_a_deactivated_owner_loses_their_deal_buttons(container, fake_tg, people):
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    anna = Chat(container, fake_tg, people["anna"])
    await opened(anna, deal_id)
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, people["anna"].id, False, company=container.company)
    assert await anna.press("Выиграна") == NO_ACCESS
    assert (await the_deal(container, deal_id)).status is DealStatus.OPEN


async def test_a_command_mid_dialog_is_a_command_and_deals_leaves_the_dialog(
    container, fake_tg, people
):
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    anna = Chat(container, fake_tg, people["anna"])
    await opened(anna, deal_id)
    await anna.press("Сумма")
    await anna.say("/deals")
    assert "Мои сделки" in seen(anna)
    await anna.say("150000")  # the dialog is over: not an amount any more
    assert (await the_deal(container, deal_id)).amount is None


async def test_times_are_in_the_viewer_s_office_zone(container, fake_tg, people):
    deal_id = await a_deal(container, people["anna"], await a_client(container, people["anna"]))
    anna = Chat(container, fake_tg, people["anna"])
    await opened(anna, deal_id)
    assert re.search(r"Создана: 3 дек\.( 2025)?, 12:00", seen(anna))  # Moscow, the company's
    async with container.db.unit_of_work() as s:
        await s.execute(
            sa.update(Office)
            .where(Office.id == people["anna"].office_id)
            .values(timezone="Asia/Yekaterinburg")
        )
    await opened(anna, deal_id)
    assert re.search(r"Создана: 3 дек\.( 2025)?, 14:00", seen(anna))


async def test_an_english_speaking_employee_types_and_reads_english_money(
    container, fake_tg, people
):
    async with container.db.unit_of_work() as s:
        found = await factories.employee(s, container.company.clock, name="Kate", locale="en")
    kate = Chat(container, fake_tg, found)
    deal_id = await a_deal(container, found, await a_client(container, found, "Ivan"))
    await opened(kate, deal_id)
    await kate.press("Amount")
    await kate.say("1,500.50")
    await kate.press("Cost")
    await kate.say("500 ₽")
    assert f"Gross profit: 1,000.5{NBSP}₽" in seen(kate)
    await kate.say("/deals")
    assert "First contact" not in seen(kate)  # stage names are data: as the table says
    assert f"Первичный контакт: 1 deal · 1,500.5{NBSP}₽" in seen(kate)


async def test_a_long_stage_list_pages(container, fake_tg, people):
    client_id = await a_client(container, people["anna"])
    for _ in range(12):
        await a_deal(container, people["anna"], client_id)
    anna = Chat(container, fake_tg, people["anna"])
    await anna.say("/deals")
    await anna.press("Первичный контакт (12)")
    assert len([x for x in labels(anna.last) if "Иван Петров" in x]) == 10
    await anna.press("›")
    assert len([x for x in labels(anna.last) if "Иван Петров" in x]) == 2
    await anna.press("‹")
    assert len([x for x in labels(anna.last) if "Иван Петров" in x]) == 10
