"""Deleting deals in bulk (services.bulk.deleting): counted first, taken out of every list and
report with their tasks, notes and stage moves in one transaction, each owner told once, put
back as they were by undo (the same ids; a new id when a new deal took one meanwhile)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import (
    BulkTrash,
    Client,
    Deal,
    DealStageChange,
    DealStatus,
    Note,
    Task,
    TaskStatus,
    Ticket,
)
from services import bulk, reports
from services.actors import Actor
from services.deals import lists
from services.errors import AccessDenied, Conflict
from tests.services.test_bulk import deal, summaries, task, team  # noqa: F401


async def _ids(session, model) -> list[int]:
    return list(await session.scalars(sa.select(model.id).order_by(model.id)))


async def _won_today(session, company, admin) -> Decimal:
    period = reports.Period.of(reports.Preset.TODAY, company.clock.now(), company.timezone)
    report = await reports.manager_report(
        session, period, reports.scope_for(Actor.of(admin)), today=company.clock.now()
    )
    return report.total.won_sum


async def test_deleted_deals_leave_lists_and_reports_and_come_back_whole_on_undo(
    session,
    clock,
    company,
    team,  # noqa: F811
):
    admin, anna, boris, _vera = team
    windows = await deal(session, anna, title="Окна")
    doors = await deal(session, anna, title="Двери", status=DealStatus.WON, amount=Decimal(90000))
    doors.closed_at = clock.now()
    kept = await deal(session, boris, title="Балкон")
    call_back = await task(session, windows, anna)
    done = await task(session, windows, anna, status=TaskStatus.DONE)
    session.add_all(
        [
            Note(deal_id=windows.id, client_id=windows.client_id, text="замер в четверг"),
            Note(task_id=call_back.id, text="просил после обеда"),
            DealStageChange(
                deal_id=windows.id, to_stage_id=windows.stage_id, by_id=anna.id, at=clock.now()
            ),
        ]
    )
    ticket = Ticket(
        author_id=anna.id, category="Прочее", subject="Счёт", client_id=windows.client_id
    )
    ticket.deal_id = windows.id
    session.add(ticket)
    await session.flush()
    assert await _won_today(session, company, admin) == Decimal(90000)
    annas, by = lists.DealFilter(owner_id=anna.id), Actor.of(admin)

    plan = await bulk.plan_delete(session, annas, by=by)
    assert (plan.count, plan.along, plan.unlinked) == (2, {"task": 2, "note": 2}, 1)
    with pytest.raises(Conflict):  # a deal came or went since the count
        async with session.begin_nested():
            await bulk.delete(session, annas, expected=3, by=by, company=company)
    op_id = await bulk.delete(session, annas, expected=2, by=by, company=company)

    assert await _ids(session, Deal) == [kept.id]
    shown = await lists.page(session, lists.DealFilter())
    assert [row.id for row in shown.rows] == [kept.id]
    assert await _ids(session, Task) == [] and await _ids(session, Note) == []
    assert await _ids(session, DealStageChange) == []
    assert await session.scalar(sa.select(Ticket.deal_id).where(Ticket.id == ticket.id)) is None
    assert await _won_today(session, company, admin) == 0  # the won deal left the numbers
    told = await summaries(session)
    assert told[str(anna.telegram_id)]["event"] == "deleted"
    assert told[str(anna.telegram_id)]["counts"] == {"deal": 2, "task": 1}  # her open task
    assert str(boris.telegram_id) not in told

    clock.advance(hours=2)
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert (undone.back, undone.kept) == ({"deal": 2}, {"deal": 0})
    assert await _ids(session, Deal) == sorted([windows.id, doors.id, kept.id])
    assert await _ids(session, Task) == [call_back.id, done.id]
    notes = (await session.execute(sa.select(Note.deal_id, Note.task_id).order_by(Note.id))).all()
    assert [tuple(n) for n in notes] == [(windows.id, None), (None, call_back.id)]
    assert await session.scalar(sa.select(Ticket.deal_id).where(Ticket.id == ticket.id)) == (
        windows.id
    )
    status = await session.execute(
        sa.select(Deal.status, Deal.amount, Deal.title).where(Deal.id == doors.id)
    )
    assert tuple(status.one()) == (DealStatus.WON, Decimal(90000), "Двери")
    assert await _won_today(session, company, admin) == Decimal(90000)
    assert await session.scalar(sa.select(sa.func.count()).select_from(BulkTrash)) == 0
    with pytest.raises(Conflict):
        await bulk.undo(session, op_id, by=by, company=company)


async def test_a_deal_whose_id_was_taken_meanwhile_comes_back_under_a_new_one(
    session,
    clock,
    company,
    team,  # noqa: F811
):
    admin, anna, _boris, _vera = team
    first = await deal(session, anna, title="Окна")
    newest = await deal(session, anna, title="Двери")
    its_task = await task(session, newest, anna)
    by = Actor.of(admin)
    op_id = await bulk.delete(
        session, lists.DealFilter(ids=(newest.id,)), expected=1, by=by, company=company
    )
    session.expunge(newest)  # as a new request would: the deleted deal is not in its session
    later = await deal(session, anna, title="Балкон")  # SQLite gives it the deleted one's id
    await bulk.undo(session, op_id, by=by, company=company)
    titles = dict((await session.execute(sa.select(Deal.id, Deal.title))).all())
    assert sorted(titles.values()) == ["Балкон", "Двери", "Окна"]
    assert titles[later.id] == "Балкон" and titles[first.id] == "Окна"
    restored = next(i for i, title in titles.items() if title == "Двери")
    owner_of_task = await session.scalar(sa.select(Task.deal_id).where(Task.id == its_task.id))
    assert owner_of_task == restored  # its task follows it to the id it has now


async def test_only_admins_delete(session, clock, company, team):  # noqa: F811
    from models import Role
    from tests import factories

    _admin, anna, _boris, _vera = team
    await deal(session, anna)
    manager = await factories.employee(session, clock, name="Мария", role=Role.MANAGER)
    for who in (manager, anna):
        with pytest.raises(AccessDenied):
            await bulk.plan_delete(session, lists.DealFilter(), by=Actor.of(who))
        with pytest.raises(AccessDenied):
            await bulk.delete(
                session, lists.DealFilter(), expected=1, by=Actor.of(who), company=company
            )
    assert len(await _ids(session, Deal)) == 1


async def test_the_trash_is_forgotten_once_undo_is_over(session, clock, company, team):  # noqa: F811
    from scheduler import jobs

    admin, anna, _boris, _vera = team
    gone = await deal(session, anna)
    await task(session, gone, anna)
    by = Actor.of(admin)
    op_id = await bulk.delete(
        session, lists.DealFilter(ids=(gone.id,)), expected=1, by=by, company=company
    )
    trash = sa.select(sa.func.count()).select_from(BulkTrash)
    clock.advance(hours=23)
    await jobs.empty_bulk_trash(session, company)
    assert await session.scalar(trash) == 2  # undo still possible: kept
    clock.advance(hours=1)
    assert await jobs.empty_bulk_trash(session, company) == (
        "2 rows of bulk deletes past their undo forgotten"
    )
    assert await session.scalar(trash) == 0
    with pytest.raises(Conflict):  # too late
        await bulk.undo(session, op_id, by=by, company=company)


async def test_deleted_tasks_remind_nobody_and_come_back_with_their_notes(
    session,
    clock,
    company,
    team,  # noqa: F811
):
    from datetime import timedelta

    from services import tasks as task_service

    admin, anna, _boris, _vera = team
    windows = await deal(session, anna)
    due = await task(session, windows, anna)
    due.due_at = due.remind_at = clock.now() + timedelta(minutes=30)
    done = await task(session, windows, anna, status=TaskStatus.DONE)
    other = await task(session, windows, anna)
    session.add(Note(task_id=due.id, text="звонить на мобильный"))
    await session.flush()
    by, chosen = Actor.of(admin), task_table_filter(due.id, done.id)
    plan = await bulk.plan_delete(session, chosen, by=by)
    assert (plan.kind, plan.count, plan.along) == ("task", 2, {"note": 1})
    op_id = await bulk.delete(session, chosen, expected=2, by=by, company=company)
    assert await _ids(session, Task) == [other.id] and await _ids(session, Note) == []
    assert await _ids(session, Deal) == [windows.id]  # the deal stays
    told = await summaries(session)
    assert told[str(anna.telegram_id)]["counts"] == {"task": 1}  # her open one
    clock.advance(hours=1)  # its due time passed: nobody is reminded of a deleted task
    fired = await task_service.fire_due(session, company)
    assert fired.count == 0
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert (undone.back, undone.kept) == ({"task": 2}, {"task": 0})
    assert await _ids(session, Task) == [due.id, done.id, other.id]
    assert await session.scalar(sa.select(Note.task_id)) == due.id
    assert (await task_service.fire_due(session, company)).count == 1  # back, and it reminds


async def test_a_task_whose_deal_was_deleted_since_stays_out(
    session,
    clock,
    company,
    team,  # noqa: F811
):
    admin, anna, _boris, _vera = team
    windows = await deal(session, anna)
    lone = await task(session, windows, anna)
    by = Actor.of(admin)
    first = await bulk.delete(
        session, task_table_filter(lone.id), expected=1, by=by, company=company
    )
    await bulk.delete(
        session, lists.DealFilter(ids=(windows.id,)), expected=1, by=by, company=company
    )
    undone = await bulk.undo(session, first, by=by, company=company)
    assert (undone.back, undone.kept) == ({"task": 0}, {"task": 1})  # no deal to come back to
    assert await _ids(session, Task) == []


def task_table_filter(*ids: int):
    from services.tasks import table as task_table

    return task_table.TaskFilter(ids=ids)


async def test_a_deleted_client_takes_everything_of_theirs_and_undo_puts_back_every_row(
    session,
    clock,
    company,
    team,  # noqa: F811
):
    from services.clients import lists as client_lists
    from tests.client_history import client_with_history, snapshot

    admin, anna, boris, _vera = team
    gone = await client_with_history(session, name="Мусор", office_id=None, owner=anna)
    merged = await client_with_history(session, name="Мусор (дубль)", office_id=None, owner=anna)
    stays = await client_with_history(session, name="Клиент", office_id=None, owner=boris)
    await session.execute(sa.update(Client).where(Client.id == merged).values(merged_into_id=gone))
    before = {c: await snapshot(session, c) for c in (gone, merged, stays)}
    by, chosen = Actor.of(admin), client_lists.ClientFilter(ids=(gone,))

    plan = await bulk.plan_delete(session, chosen, by=by)
    assert (plan.kind, plan.count) == ("client", 1)
    assert plan.along == {
        "lead": 1,
        "deal": 1,
        "call": 1,
        "conversation": 1,
        "ticket": 1,
        "task": 1,
    }
    op_id = await bulk.delete(session, chosen, expected=1, by=by, company=company)
    for client in (gone, merged):  # the card merged into it is the same person: it goes too
        assert all(rows == [] for rows in (await snapshot(session, client)).values())
    assert await snapshot(session, stays) == before[stays]
    shown = await client_lists.page(session, client_lists.ClientFilter())
    assert [row.id for row in shown.rows] == [stays]
    assert await _ids(session, Deal) == [d["id"] for d in before[stays]["deals"]]
    told = await summaries(session)
    assert told[str(anna.telegram_id)]["counts"] == {"client": 1}

    clock.advance(hours=1)
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert (undone.back, undone.kept) == ({"client": 1}, {"client": 0})
    session.expire_all()
    for client in (gone, merged, stays):  # every row, every column, as it was
        assert await snapshot(session, client) == before[client]


async def test_a_client_who_came_back_meanwhile_keeps_their_new_card(
    session,
    clock,
    company,
    team,  # noqa: F811
):
    from models import Channel, ChannelIdentity, Conversation, Message
    from services.clients import lists as client_lists
    from tests.client_history import client_with_history

    admin, anna, _boris, _vera = team
    gone = await client_with_history(session, name="Иван", office_id=None, owner=anna)
    phone = await session.scalar(
        sa.select(ChannelIdentity.address).where(ChannelIdentity.client_id == gone)
    )
    chat = await session.scalar(
        sa.select(Conversation.external_chat_id).where(Conversation.client_id == gone)
    )
    by = Actor.of(admin)
    op_id = await bulk.delete(
        session, client_lists.ClientFilter(ids=(gone,)), expected=1, by=by, company=company
    )
    # He calls and writes again: a new card holds his phone and his WhatsApp chat now.
    again = Client(name="Иван снова", owner_id=anna.id)
    session.add(again)
    await session.flush()
    new_chat = Conversation(client_id=again.id, channel=Channel.WHATSAPP, external_chat_id=chat)
    session.add_all(
        [
            ChannelIdentity(client_id=again.id, channel=Channel.PHONE, address=phone),
            new_chat,
        ]
    )
    await session.flush()
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert undone.back == {"client": 1}
    holders = await session.scalars(
        sa.select(ChannelIdentity.client_id).where(ChannelIdentity.address == phone)
    )
    assert list(holders) == [again.id]  # the phone stays with the card that has it now
    said = await session.scalars(
        sa.select(Message.text).where(Message.conversation_id == new_chat.id)
    )
    assert list(said) == ["Здравствуйте"]  # the old messages joined the chat he is in now
    names = await session.scalars(sa.select(Client.name).order_by(Client.name))
    assert list(names) == ["Иван", "Иван снова"]  # both cards (SQLite may renumber the old)


async def test_only_admins_delete_clients(session, clock, company, team):  # noqa: F811
    from models import Role
    from services.clients import lists as client_lists
    from tests import factories

    manager = await factories.employee(session, clock, name="Мария", role=Role.MANAGER)
    with pytest.raises(AccessDenied):
        await bulk.plan_delete(session, client_lists.ClientFilter(), by=Actor.of(manager))
