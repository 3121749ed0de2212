"""Which inbox a client's topic opens in, who may bind, and who may answer from a topic."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import Client, Direction, Message, Office, Role, TeamTopic
from services import actors, team
from services.errors import AccessDenied
from tests import factories
from tests.chat import drain
from tests.conversations.support import post
from tests.team.support import GROUP, Group

OFFICE_GROUP = -1005550001111


def _facts(chat_id: int) -> team.GroupFacts:
    rights = frozenset(team.NEEDED_RIGHTS)
    return team.GroupFacts(chat_id, "Команда", True, True, True, rights)


async def test_an_office_inbox_takes_its_clients_and_the_company_inbox_the_rest(
    session, company, clock
):
    boss = await factories.employee(session, clock, name="Ольга", role=Role.ADMIN)
    anna = await factories.employee(session, clock, name="Анна", office="Центр")
    by = actors.Actor.of(boss)
    await team.bind(session, _facts(GROUP), by=by, office_name=None, company=company)
    bound = await team.bind(
        session, _facts(OFFICE_GROUP), by=by, office_name="центр", company=company
    )
    assert bound.office == "Центр"
    center = await session.scalar(sa.select(Office.id).where(Office.name == "Центр"))
    ours = Client(name="Свой", office_id=center)
    owned = Client(name="Через ведущего", owner_id=anna.id)
    other = Client(name="Чужой")
    session.add_all([ours, owned, other])
    await session.flush()

    queued = await team.clients_changed(session, [ours.id, owned.id, other.id], now=clock.now())
    assert queued == 3
    topics = {
        t.client_id: t.chat_id for t in (await session.execute(sa.select(TeamTopic))).scalars()
    }
    assert topics == {ours.id: OFFICE_GROUP, owned.id: OFFICE_GROUP, other.id: GROUP}
    # a second change while the first step waits queues nothing more
    assert await team.clients_changed(session, [ours.id], now=clock.now()) == 0


async def test_only_an_admin_binds_and_a_bound_scope_moves_to_the_new_group(
    session, company, clock
):
    boss = await factories.employee(session, clock, name="Ольга", role=Role.ADMIN)
    manager = await factories.employee(session, clock, name="Пётр", role=Role.MANAGER)
    with pytest.raises(AccessDenied):
        await team.bind(
            session, _facts(GROUP), by=actors.Actor.of(manager), office_name=None, company=company
        )
    by = actors.Actor.of(boss)
    await team.bind(session, _facts(GROUP), by=by, office_name=None, company=company)
    moved = await team.bind(session, _facts(OFFICE_GROUP), by=by, office_name=None, company=company)
    assert moved.moved_from == GROUP
    assert (await team.of_chat(session, OFFICE_GROUP)).scope == "company"


async def test_when_only_owners_answer_a_colleagues_message_is_kept_as_a_note(
    web, container, fake_tg, fake_wa, clock
):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.ADMIN)
        anna = await factories.employee(s, clock, name="Анна")
    fake_tg.add_group(GROUP, "Команда")
    group = Group(container, fake_tg)
    await group.say(boss, "/bind_team")
    await group.say(boss, "/team_writes owner")
    assert "только их ведущие" in group.general[-1]
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")
    async with container.db.unit_of_work() as s:
        boris = await factories.employee(s, clock, name="Борис")

    await group.say(boris, "Я отвечу!", thread=thread)
    assert "Клиента ведёт Анна" in group.bot_texts(thread)[-1]
    await group.say(anna, "Здравствуйте, Иван", thread=thread)
    [sent] = await fake_wa.wait_sent(1)
    assert sent.body["text"]["body"] == "Здравствуйте, Иван"
    async with container.db.unit_of_work() as s:
        said = [
            (m.direction, m.text)
            for m in (await s.execute(sa.select(Message).order_by(Message.id))).scalars()
        ]
    assert said[1:] == [(Direction.INTERNAL, "Я отвечу!"), (Direction.OUT, "Здравствуйте, Иван")]


async def test_the_card_is_edited_in_place_when_the_lead_is_taken_in_a_private_chat(
    web, container, fake_tg, fake_wa, clock
):
    from tests.chat import Chat

    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.ADMIN)
        anna = await factories.employee(s, clock, name="Анна")
    fake_tg.add_group(GROUP, "Команда")
    group = Group(container, fake_tg)
    await group.say(boss, "/bind_team")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await drain(container)
    thread = group.topic("Иван")
    before = group.card(thread)
    assert "новый" in before["text"]

    chat = Chat(container, fake_tg, anna)
    await chat.press("Взять", chat.messages[0])
    after = group.card(thread)
    assert after["message_id"] == before["message_id"]  # the same message, edited
    assert "в работе" in after["text"] and "Открытых сделок: 1" in after["text"]
    assert (
        len([m for m in group.messages(thread) if m["message_id"] in group.topics[thread].pinned])
        == 1
    )


async def _client_topic(web, container, fake_tg, fake_wa, clock):
    async with container.db.unit_of_work() as s:
        boss = await factories.employee(s, clock, name="Ольга", role=Role.ADMIN)
    fake_tg.add_group(GROUP, "Команда")
    group = Group(container, fake_tg)
    await group.say(boss, "/bind_team")
    await post(web, fake_wa, fake_wa.text("79120001122", "Здравствуйте", name="Иван"))
    await drain(container)
    return group, boss, group.topic("Иван")


async def test_a_topic_left_behind_by_a_rebinding_is_read_only(
    web, container, fake_tg, fake_wa, clock
):
    group, boss, thread = await _client_topic(web, container, fake_tg, fake_wa, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    fake_tg.add_group(OFFICE_GROUP, "Новая команда")
    await Group(container, fake_tg, OFFICE_GROUP).say(boss, "/bind_team")  # the company moves

    await group.say(anna, "Здравствуйте!", thread=thread)
    assert "в общем чате другого офиса" in group.bot_texts(thread)[-1]
    assert [m for m in fake_wa.sent if "Здравствуйте!" in str(m.body)] == []


async def test_a_deactivated_owner_leaves_the_client_to_be_taken(
    web, container, fake_tg, fake_wa, clock
):
    from services import employees

    group, _boss, thread = await _client_topic(web, container, fake_tg, fake_wa, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    assert "Взять" in str(group.card(thread)["reply_markup"])
    await group.press(anna, "Взять", group.card(thread))
    assert "Ведёт: Анна" in group.card(thread)["text"]
    async with container.db.unit_of_work() as s:
        await employees.set_active(s, anna.id, False, company=container.company)
    client_id = await topic_client(container)
    async with container.db.unit_of_work() as s:  # the card catches up at the next change
        await team.clients_changed(s, [client_id], now=clock.now())
    await drain(container)
    assert "никто не ведёт" in group.card(thread)["text"]


async def topic_client(container) -> int:
    async with container.db.unit_of_work() as s:
        return (await s.execute(sa.select(TeamTopic.client_id))).scalar_one()


async def test_service_messages_inline_results_and_a_stale_note_mode_are_handled_sensibly(
    web, container, fake_tg, fake_wa, clock
):
    group, _boss, thread = await _client_topic(web, container, fake_tg, fake_wa, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
    said = len(group.bot_texts(thread))
    await group.say(anna, "", thread=thread, forum_topic_closed={})  # Anna closed the topic
    via = {"id": fake_tg.bot_id, "is_bot": True, "first_name": "Bot", "username": "chatcrm_bot"}
    await group.say(anna, "Иванов Пётр +7 912 000-99-88", thread=thread, via_bot=via)
    assert len(group.bot_texts(thread)) == said  # neither answered, nor sent to the client
    assert all("Иванов" not in str(m.body) for m in fake_wa.sent)

    await group.press(anna, "Заметка", group.card(thread))
    clock.advance(minutes=11)  # she pressed 📝 and went away
    await group.say(anna, "Добрый день, Иван!", thread=thread)
    [sent] = [m for m in fake_wa.sent if "Добрый день, Иван!" in str(m.body)]
    assert sent.body["to"] == "79120001122"
