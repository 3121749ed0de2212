"""Merging duplicates in Telegram: from the card's Merge button to Undo, and every refusal."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.telegram.client_screens import client_card
from bot.telegram.screens import Screen, Ui, button
from config.i18n import Translator, translate
from handlers.callbacks import MergeAction, MergeCallback, MergeUndoCallback
from models import Channel, ChannelIdentity, Client, ClientMerge, Employee, Lead, Role
from services import employees
from services.actors import Actor
from tests import factories
from tests.chat import Chat, drain, labels
from tests.client_history import client_with_history, snapshot

# What a deactivated employee is told (handlers.strangers, former employees).
NO_ACCESS = translate("ru", "menu.former.no_access")

MERGE = "🔗 Объединить"


@pytest.fixture
async def people(container, clock) -> dict[str, Employee]:
    async with container.db.unit_of_work() as s:
        return {
            "vera": await factories.employee(
                s, clock, name="Вера", office="Москва", role=Role.MANAGER
            ),
            "kazan": await factories.employee(
                s, clock, name="Карина", office="Казань", role=Role.MANAGER
            ),
            "anna": await factories.employee(s, clock, name="Анна", office="Москва"),
        }


@pytest.fixture
async def pair(container, people) -> tuple[int, int]:
    """Ivan twice in Moscow: once Anna's, once from the site with his company."""
    async with container.db.unit_of_work() as s:
        anna = people["anna"]
        survivor = await client_with_history(
            s, name="Иван Петров", office_id=anna.office_id, owner=anna
        )
        merged = await client_with_history(
            s, name="иван  петров", office_id=anna.office_id, owner=None, company="ООО Ёлка"
        )
    return survivor, merged


@pytest.fixture
def open_card(container, fake_tg):
    """The client card with its Merge button, as a manager sees it (the card feature draws
    the real one)."""

    async def opened(who: Employee, client_id: int) -> Chat:
        async with container.db.unit_of_work() as s:
            t = Translator("ru")
            ui = Ui(s, container.company, chat_id=who.telegram_id, t=t)
            tz = container.company.timezone
            card = await client_card(s, client_id, by=Actor.of(who), t=t, default_tz=tz)
            start = MergeCallback(action=MergeAction.START, client_id=client_id)
            await ui.send(Screen(card.text, [[button(MERGE, start)]]))
        await drain(container)
        return Chat(container, fake_tg, who)

    return opened


async def both(container, pair) -> dict[int, dict]:
    async with container.db.unit_of_work() as s:
        return {cid: await snapshot(s, cid) for cid in pair}


async def merged_into(container, client_id: int) -> int | None:
    async with container.db.unit_of_work() as s:
        return await s.scalar(sa.select(Client.merged_into_id).where(Client.id == client_id))


async def test_a_manager_names_the_duplicate_merges_and_undoes(
    container, fake_tg, people, pair, open_card
):
    survivor, merged = pair
    before = await both(container, pair)
    vera = await open_card(people["vera"], survivor)

    await vera.press(MERGE)
    assert "Пришлите телефон, имя или e-mail дубля" in vera.text
    await vera.say("Ёлка")
    assert f"#{merged}" in " ".join(labels(vera.last))
    await vera.press(f"#{merged}")
    assert "Объединить клиентов?" in vera.text
    assert "Перейдёт: 1 лид, 1 сделка, 1 звонок, 1 заметка, 1 задача, 1 переписка" in vera.text
    assert "ООО Ёлка" in vera.text

    assert await vera.press("✅ Объединить") == "Готово: клиенты объединены"
    assert f"#{survivor}" in vera.text and "Объединить клиентов?" not in vera.text
    assert await merged_into(container, merged) == survivor
    async with container.db.unit_of_work() as s:
        leads = await s.scalars(sa.select(Lead.client_id))
        assert set(leads) == {survivor}

    assert await vera.press("Отменить объединение") == "Объединение отменено"
    assert "Отменить объединение" not in labels(vera.last)
    assert await both(container, pair) == before


async def test_likely_duplicates_are_offered_as_buttons(
    container, fake_tg, people, pair, open_card
):
    survivor, merged = pair
    async with container.db.unit_of_work() as s:
        other = await client_with_history(s, name="Пётр", office_id=None, owner=people["anna"])
        phone = await s.scalar(
            sa.select(ChannelIdentity.address).where(ChannelIdentity.client_id == survivor)
        )
        s.add(ChannelIdentity(client_id=other, channel=Channel.WHATSAPP, address=phone))
    vera = await open_card(people["vera"], survivor)
    await vera.press(MERGE)
    offered = " ".join(labels(vera.last))
    assert "Похоже на дубли" in vera.text
    assert f"#{merged}" in offered and f"#{other}" in offered
    await vera.press(f"#{other}")
    assert "Пётр" in vera.text


async def test_undo_after_24_hours_gets_an_alert_and_changes_nothing(
    container, fake_tg, clock, people, pair, open_card
):
    survivor, merged = pair
    vera = await open_card(people["vera"], survivor)
    await vera.press(MERGE)
    await vera.press(f"#{merged}")
    await vera.press("✅ Объединить")
    clock.advance(hours=24, minutes=1)
    alert = await vera.press("Отменить объединение")
    assert alert == "Отменить объединение можно только в течение 24 часов"
    assert await merged_into(container, merged) == survivor


async def test_a_second_undo_from_an_old_button_is_refused(
    container, fake_tg, people, pair, open_card
):
    survivor, merged = pair
    vera = await open_card(people["vera"], survivor)
    await vera.press(MERGE)
    await vera.press(f"#{merged}")
    await vera.press("✅ Объединить")
    undo = vera.last["reply_markup"]["inline_keyboard"][-1][0]["callback_data"]
    await vera.press("Отменить объединение")
    assert await vera.press_data(undo) == "Это объединение уже отменено"
    assert await merged_into(container, merged) is None


async def test_an_employee_may_not_merge(container, fake_tg, people, pair, open_card):
    survivor, merged = pair
    anna = await open_card(people["anna"], survivor)
    assert await anna.press(MERGE) == "Объединять клиентов могут руководитель офиса и администратор"
    confirm = MergeCallback(action=MergeAction.CONFIRM, client_id=survivor, other_id=merged)
    assert "руководитель" in (await anna.press_data(confirm.pack()) or "")
    assert await merged_into(container, merged) is None


async def test_a_manager_of_another_office_may_not_merge_or_undo(
    container, fake_tg, people, pair, open_card
):
    survivor, merged = pair
    vera = await open_card(people["vera"], survivor)
    await vera.press(MERGE)
    await vera.press(f"#{merged}")
    confirm = MergeCallback(action=MergeAction.CONFIRM, client_id=survivor, other_id=merged)
    kazan = Chat(container, fake_tg, people["kazan"])
    await kazan.say("/start")
    assert "руководитель" in (await kazan.press_data(confirm.pack(), kazan.last) or "")
    assert await merged_into(container, merged) is None
    await vera.press("✅ Объединить")
    async with container.db.unit_of_work() as s:
        merge_id = await s.scalar(sa.select(ClientMerge.id))
    undo = MergeUndoCallback(merge_id=merge_id).pack()
    assert "руководитель" in (await kazan.press_data(undo, kazan.last) or "")
    assert await merged_into(container, merged) == survivor


async def test_merging_into_itself_or_an_already_merged_client_is_refused(
    container, fake_tg, people, pair, open_card
):
    survivor, merged = pair
    vera = await open_card(people["vera"], survivor)
    itself = MergeCallback(action=MergeAction.PICK, client_id=survivor, other_id=survivor)
    assert await vera.press_data(itself.pack()) == "Нельзя объединить клиента с самим собой"
    await vera.press(MERGE)
    await vera.press(f"#{merged}")
    await vera.press("✅ Объединить")
    again = MergeCallback(action=MergeAction.CONFIRM, client_id=merged, other_id=survivor)
    assert await vera.press_data(again.pack()) == "Этот клиент уже объединён с другим"
    assert await merged_into(container, survivor) is None


async def test_tampered_merge_buttons_change_nothing(container, fake_tg, people, pair, open_card):
    survivor, _merged = pair
    before = await both(container, pair)
    vera = await open_card(people["vera"], survivor)
    assert await vera.press_data(f"mg:c:{survivor}:99999999999999999999") == "Не найдено"
    assert await vera.press_data("mg:zz:1:2") == "Не найдено"
    forged = MergeUndoCallback(merge_id=4242).pack()
    assert await vera.press_data(forged) == "Клиент или объединение не найдены"
    assert await both(container, pair) == before


async def test_a_deactivated_manager_loses_the_undo_button(
    container, fake_tg, people, pair, open_card
):
    survivor, merged = pair
    vera = await open_card(people["vera"], survivor)
    await vera.press(MERGE)
    await vera.press(f"#{merged}")
    await vera.press("✅ Объединить")
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, people["vera"].id, False, company=container.company)
    assert await vera.press("Отменить объединение") == NO_ACCESS
    assert await merged_into(container, merged) == survivor


def test_merge_buttons_fit_telegrams_64_bytes_with_the_largest_ids():
    largest = 2**63 - 1
    packed = [
        MergeCallback(action=action, client_id=largest, other_id=largest).pack()
        for action in MergeAction
    ]
    packed.append(MergeUndoCallback(merge_id=largest).pack())
    assert max(len(p.encode()) for p in packed) <= 64


async def test_an_english_speaking_manager_is_asked_in_english_and_told_when_nobody_matches(
    container, fake_tg, clock, pair, open_card
):
    survivor, merged = pair
    async with container.db.unit_of_work() as s:
        mary = await factories.employee(s, clock, name="Mary", role=Role.ADMIN, locale="en")
    chat = await open_card(mary, survivor)
    await chat.press(MERGE)
    assert "Send the duplicate's phone, name or e-mail" in chat.text
    await chat.say("Nobody Like This")
    assert "Nobody found for “Nobody Like This”" in chat.text
    await chat.press(f"#{merged}", chat.messages[-2])  # a likely one, offered at the start
    assert "Will move: 1 lead, 1 deal, 1 call" in chat.messages[-2]["text"]
