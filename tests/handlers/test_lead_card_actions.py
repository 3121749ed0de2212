"""A lead card in Telegram: Take raced by two people, Non-target / Spam with a reason picked
from buttons (or cancelled), Reassign by a manager (on shift first), and the refusals."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.telegram import lead_screens
from bot.telegram.limits import TEXT_LIMIT, units
from config.i18n import Translator
from handlers.callbacks import (
    LeadAction,
    LeadCallback,
    LeadReasonCallback,
    LeadReassignCallback,
)
from models import AuditEntry, Deal, Employee, Lead, LeadStatus, Role
from services import leads
from tests import factories
from tests.chat import Chat, deliver, drain, labels

BOSS_CARD = [
    "✅ Взять",
    "Нецелевой",
    "Спам",
    "👤 Клиент",
    "📌 Задача",
    "🔁 Передать",
    "🆘 В поддержку",
]


@pytest.fixture
async def team(container, clock):
    """Moscow: Anna gets the lead (the only one on duty when it comes); Boris is back on
    shift right after; Dima works Sundays only; Vera manages the office. Gleb manages Kazan."""
    async with container.db.unit_of_work() as s:
        people = {
            "anna": await factories.employee(s, clock, name="Анна", office="Москва"),
            "boris": await factories.employee(s, clock, name="Борис", office="Москва"),
            "dima": await factories.employee(
                s, clock, name="Дима", office="Москва", shifts=[(6, "09:00", "18:00")]
            ),
            "vera": await factories.employee(
                s, clock, name="Вера", office="Москва", role=Role.MANAGER
            ),
            "gleb": await factories.employee(
                s, clock, name="Глеб", office="Казань", role=Role.MANAGER
            ),
        }
        people["boris"].on_shift = False
    return people


async def lead_for_anna(container, fake_tg, team, **kw) -> tuple[int, Chat]:
    async with container.db.unit_of_work() as s:
        result = await leads.register_incoming(
            s,
            leads.LeadIn(
                source="form:tilda",
                phone=kw.get("phone", "+79120001122"),
                name="Иван",
                office="Москва",
            ),
            company=container.company,
        )
        (await s.get(Employee, team["boris"].id)).on_shift = True
    assert result.assignee_id == team["anna"].id
    await drain(container)
    return result.lead_id, Chat(container, fake_tg, team["anna"])


async def opened_by(container, fake_tg, who, lead_id: int) -> Chat:
    """`who` opens the lead's card (as from a list): their own copy, kept up to date."""
    chat = Chat(container, fake_tg, who)
    somewhere = {"message_id": 10**6, "date": 0, "chat": {"id": chat.user_id, "type": "private"}}
    await chat.press_data(LeadCallback(action=LeadAction.OPEN, lead_id=lead_id).pack(), somewhere)
    return chat


async def lead_row(container, lead_id: int) -> Lead:
    async with container.db.unit_of_work() as s:
        return await s.get(Lead, lead_id)


async def audit_of(container, lead_id: int) -> list[AuditEntry]:
    async with container.db.unit_of_work() as s:
        stmt = (
            sa.select(AuditEntry)
            .where(AuditEntry.entity_type == "lead", AuditEntry.entity_id == lead_id)
            .order_by(AuditEntry.id)
        )
        return list((await s.execute(stmt)).scalars())


async def test_two_people_pressing_take_at_once_one_wins_and_every_copy_says_who(
    container, fake_tg, team
):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    vera = await opened_by(container, fake_tg, team["vera"], lead_id)
    take = LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack()
    updates = [
        fake_tg.callback_update(from_id=chat.user_id, data=take, message=chat.last)
        for chat in (anna, vera)
    ]
    await asyncio.gather(*(deliver(container, u) for u in updates))
    await drain(container)
    answers = [
        next(
            c.params
            for c in fake_tg.calls("answerCallbackQuery")
            if c.params["callback_query_id"] == u["callback_query"]["id"]
        )
        for u in updates
    ]
    won = [a for a in answers if a.get("text") == "Лид ваш"]
    lost = [a for a in answers if a.get("show_alert")]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0]["text"] == "Лид уже обработан (целевой)"
    row = await lead_row(container, lead_id)
    winner = "Анна" if row.assignee_id == team["anna"].id else "Вера"
    assert row.status is LeadStatus.TARGET
    async with container.db.unit_of_work() as s:
        assert len((await s.execute(sa.select(Deal))).scalars().all()) == 1
    assert [e.action for e in await audit_of(container, lead_id)].count("lead.taken") == 1
    for chat in (anna, vera):
        assert f"Взял в работу: {winner}" in chat.last["text"]


async def test_the_assignee_pressing_take_after_the_manager_took_it_is_told_it_is_taken(
    container, fake_tg, team
):
    # The order the race above may end in: the manager first. The assignee has no say on the
    # lead any more, and is told why rather than "no access".
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    card = anna.last
    vera = await opened_by(container, fake_tg, team["vera"], lead_id)
    assert await vera.press("Взять") == "Лид ваш"
    take = LeadCallback(action=LeadAction.TAKE, lead_id=lead_id).pack()
    assert await anna.press_data(take, card) == "Лид уже обработан (целевой)"


@pytest.mark.parametrize(
    ("button", "reason", "label", "status", "alert"),
    [
        *[
            ("Нецелевой", code, text, LeadStatus.NON_TARGET, "Отмечен как нецелевой")
            for code, text in [
                ("wrong_number", "Ошиблись номером"),
                ("not_our_service", "Не наша услуга"),
                ("duplicate", "Дубль"),
                ("test", "Тестовая заявка"),
                ("other", "Другое"),
            ]
        ],
        *[
            ("Спам", code, text, LeadStatus.SPAM, "Отмечен как спам")
            for code, text in [
                ("robot", "Робот / автообзвон"),
                ("advertising", "Реклама"),
                ("other", "Другое"),
            ]
        ],
    ],
)
async def test_closing_a_lead_asks_for_a_reason_and_the_card_shows_it(
    container, fake_tg, team, button, reason, label, status, alert
):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    assert await anna.press(button) is None
    # Only the pressed copy changed: the same card, the reasons and Cancel under it.
    picker = anna.last
    assert "Имя: Иван" in picker["text"] and "Выберите причину" in picker["text"]
    assert label in labels(picker) and labels(picker)[-1] == "✖️ Отмена"
    assert (await lead_row(container, lead_id)).status is LeadStatus.NEW
    assert await anna.press(label) == alert
    row = await lead_row(container, lead_id)
    assert (row.status, row.close_reason, row.closed_by_id) == (status, reason, team["anna"].id)
    assert f"Причина: {label}" in anna.last["text"] and labels(anna.last) == ["👤 Клиент"]
    [entry] = [e for e in await audit_of(container, lead_id) if e.action == f"lead.{status}"]
    assert entry.actor_id == team["anna"].id
    assert entry.data["changes"]["status"] == ["new", status.value]
    assert entry.data["changes"]["close_reason"] == [None, reason]


async def test_cancel_brings_the_cards_buttons_back_and_changes_nothing(container, fake_tg, team):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    await anna.press("Спам")
    assert await anna.press("Отмена") == "Отменено"
    assert labels(anna.last) == [
        "✅ Взять",
        "Нецелевой",
        "Спам",
        "👤 Клиент",
        "📌 Задача",
        "🆘 В поддержку",
    ]
    assert "Выберите причину" not in anna.text
    row = await lead_row(container, lead_id)
    assert (row.status, row.close_reason, row.first_response_seconds) == (
        LeadStatus.NEW,
        None,
        None,
    )
    assert await audit_of(container, lead_id) == []


async def test_a_reason_picker_left_open_is_overwritten_when_a_colleague_takes_the_lead(
    container, fake_tg, team
):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    await anna.press("Нецелевой")
    vera = await opened_by(container, fake_tg, team["vera"], lead_id)
    assert await vera.press("Взять") == "Лид ваш"
    assert "Взял в работу: Вера" in anna.last["text"] and anna.last["reply_markup"] is None
    assert await anna.press_data(
        LeadReasonCallback(lead_id=lead_id, kind=LeadAction.NON_TARGET, reason="test").pack()
    ) == ("Это может сделать только ответственный или руководитель офиса")
    assert (await lead_row(container, lead_id)).status is LeadStatus.TARGET


@pytest.mark.parametrize(
    ("data", "alert"),
    [
        ("lr:{id}:nt:bogus", "Такой причины нет"),
        ("lr:{id}:spam:wrong_number", "Такой причины нет"),
        (
            "lr:{id}:take:other",
            "Неверные данные: a lead can be rejected only as non-target or spam",
        ),
    ],
)
async def test_a_tampered_reason_is_refused(container, fake_tg, team, data, alert):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    assert await anna.press_data(data.format(id=lead_id)) == alert
    assert (await lead_row(container, lead_id)).status is LeadStatus.NEW


async def test_a_colleague_cannot_close_or_reassign_someone_elses_lead(container, fake_tg, team):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    boris = Chat(container, fake_tg, team["boris"])
    refused = "Это может сделать только ответственный или руководитель офиса"
    spam = LeadCallback(action=LeadAction.SPAM, lead_id=lead_id).pack()
    assert await boris.press_data(spam, anna.last) == refused
    reason = LeadReasonCallback(lead_id=lead_id, kind=LeadAction.SPAM, reason="robot").pack()
    assert await boris.press_data(reason, anna.last) == refused
    not_yours = "Передать этот лид этому сотруднику может администратор или руководитель офиса"
    for who in (boris, anna):  # the assignee is no manager either: no button, and refused
        for data in (
            LeadReassignCallback(lead_id=lead_id).pack(),
            LeadReassignCallback(lead_id=lead_id, employee_id=team["boris"].id).pack(),
        ):
            assert await who.press_data(data, anna.last) == not_yours
    assert "🔁 Передать" not in labels(anna.last)
    gleb = Chat(container, fake_tg, team["gleb"])  # a manager, of another office
    give = LeadReassignCallback(lead_id=lead_id, employee_id=team["gleb"].id).pack()
    assert await gleb.press_data(give, anna.last) == not_yours
    row = await lead_row(container, lead_id)
    assert (row.status, row.assignee_id) == (LeadStatus.NEW, team["anna"].id)
    assert await audit_of(container, lead_id) == []


async def test_the_manager_reassigns_a_new_lead_picking_from_those_on_shift_first(
    container, fake_tg, team
):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    vera = await opened_by(container, fake_tg, team["vera"], lead_id)
    assert labels(vera.last) == BOSS_CARD
    assert await vera.press("Передать") is None
    # On shift now first (Boris back from his break, Vera herself), then Dima (Sundays only);
    # Anna has it already.
    assert labels(vera.last) == ["🟢 Борис", "🟢 Вера", "⚪ Дима — не на смене", "✖️ Отмена"]
    assert "Кому передать лид" in vera.text and "Имя: Иван" in vera.text
    assert await vera.press("Борис") == f"Лид #{lead_id} передан: Борис"
    assert (await lead_row(container, lead_id)).assignee_id == team["boris"].id
    boris = Chat(container, fake_tg, team["boris"])
    assert f"Новый лид #{lead_id}" in boris.text and "Взять" in labels(boris.last)[0]
    # Anna's copy says it went to Boris and lost its buttons; Vera's is the card again.
    assert "Лид передан: Борис" in anna.last["text"] and anna.last["reply_markup"] is None
    assert "Ответственный: Борис" in vera.text and labels(vera.last) == BOSS_CARD
    [entry] = [e for e in await audit_of(container, lead_id) if e.action == "lead.assigned"]
    assert entry.actor_id == team["vera"].id
    assert entry.data["changes"] == {"assignee_id": [team["anna"].id, team["boris"].id]}


async def test_the_manager_reassigns_a_taken_lead_and_its_deal_goes_along(container, fake_tg, team):
    lead_id, anna = await lead_for_anna(container, fake_tg, team)
    await anna.press("Взять")
    vera = await opened_by(container, fake_tg, team["vera"], lead_id)
    assert labels(vera.last) == [
        "👤 Клиент",
        "💼 Сделка",
        "📌 Задача",
        "🔁 Передать",
        "🆘 В поддержку",
    ]
    await vera.press("Передать")
    assert await vera.press("Дима") == f"Лид #{lead_id} передан: Дима"
    async with container.db.unit_of_work() as s:
        lead = await s.get(Lead, lead_id)
        deal = (await s.execute(sa.select(Deal))).scalar_one()
    assert (lead.status, lead.assignee_id, deal.owner_id) == (
        LeadStatus.TARGET,
        team["dima"].id,
        team["dima"].id,
    )
    dima = Chat(container, fake_tg, team["dima"])
    assert "Взял в работу: Дима" in dima.text and labels(dima.last) == [
        "👤 Клиент",
        "💼 Сделка",
        "📌 Задача",
        "🆘 В поддержку",
    ]
    assert "Взял в работу: Дима" in anna.last["text"] and anna.last["reply_markup"] is None
    [entry] = [e for e in await audit_of(container, lead_id) if e.action == "lead.reassigned"]
    assert entry.data["changes"] == {"assignee_id": [team["anna"].id, team["dima"].id]}
    async with container.db.unit_of_work() as s:
        stmt = sa.select(AuditEntry).where(AuditEntry.action == "deal.owner_changed")
        [moved] = (await s.execute(stmt)).scalars().all()
    assert (moved.entity_id, moved.actor_id) == (deal.id, team["vera"].id)
    assert moved.data["changes"] == {"owner_id": [team["anna"].id, team["dima"].id]}


async def test_the_reassign_list_pages_when_the_office_is_large(container, fake_tg, team, clock):
    lead_id, _anna = await lead_for_anna(container, fake_tg, team)
    async with container.db.unit_of_work() as s:
        for n in range(8):
            await factories.employee(s, clock, name=f"Яков {n}", office="Москва")
    vera = await opened_by(container, fake_tg, team["vera"], lead_id)
    await vera.press("Передать")
    first = labels(vera.last)
    assert first[:3] == ["🟢 Борис", "🟢 Вера", "🟢 Яков 0"] and first[-2:] == ["›", "✖️ Отмена"]
    assert "стр. 1 из 2" in vera.text
    await vera.press("›")
    assert labels(vera.last) == ["🟢 Яков 6", "🟢 Яков 7", "⚪ Дима — не на смене", "‹", "✖️ Отмена"]


def test_a_picker_under_a_card_at_telegrams_limit_still_fits_and_keeps_its_prompt():
    card_html = "\n".join(["Комментарий: " + "я" * 90] * 40)  # ≈ 4100 characters
    screen = lead_screens.reason_picker(
        card_html, 1, LeadAction.SPAM, ("robot", "other"), Translator("ru")
    )
    assert units(screen.text) <= TEXT_LIMIT
    assert screen.text.endswith("<b>⬇️ Почему это спам? Выберите причину.</b>")
