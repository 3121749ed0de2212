"""services.bulk without the web: what a bulk reassign counts, moves, carries along, tells
people and records, who may do it to which deals, and what undo puts back (and keeps)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import (
    AuditEntry,
    BulkOperation,
    BulkOperationRow,
    Client,
    Deal,
    DealStatus,
    OutboxMessage,
    Role,
    Task,
    TaskStatus,
)
from services import bulk
from services.actors import Actor
from services.clients import lists as client_lists
from services.deals import lists, pipeline
from services.errors import AccessDenied, Conflict, NotFound
from tests import factories


async def deal(session, owner, *, title="Окна", status=DealStatus.OPEN, amount=None) -> Deal:
    client = Client(name=f"Клиент {title}", owner_id=owner.id, office_id=owner.office_id)
    session.add(client)
    await session.flush()
    pipeline_id = await pipeline.default_pipeline_id(session)
    made = Deal(
        client_id=client.id,
        pipeline_id=pipeline_id,
        stage_id=await pipeline.working_stage_id(session, pipeline_id),
        title=title,
        owner_id=owner.id,
        office_id=owner.office_id,
        status=status,
        amount=amount,
    )
    session.add(made)
    await session.flush()
    return made


async def task(session, deal_: Deal, assignee, *, status=TaskStatus.OPEN) -> Task:
    made = Task(title="Перезвонить", deal_id=deal_.id, assignee_id=assignee.id, status=status)
    session.add(made)
    await session.flush()
    return made


async def owners(session, *deals_: Deal) -> list[tuple[int | None, int | None]]:
    stmt = sa.select(Deal.id, Deal.owner_id, Deal.office_id).where(
        Deal.id.in_([d.id for d in deals_])
    )
    found = {row.id: (row.owner_id, row.office_id) for row in (await session.execute(stmt))}
    return [found[d.id] for d in deals_]


async def summaries(session) -> dict[str, dict]:
    """The bulk summaries in the outbox, by recipient's Telegram id."""
    stmt = sa.select(OutboxMessage.recipient, OutboxMessage.payload).where(
        OutboxMessage.kind == bulk.SUMMARY
    )
    return {str(r): p for r, p in (await session.execute(stmt)).all()}


@pytest.fixture
async def team(session, clock):
    admin = await factories.employee(session, clock, name="Админ", role=Role.ADMIN)
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    boris = await factories.employee(session, clock, name="Борис", office="Самара")
    vera = await factories.employee(session, clock, name="Вера", office="Казань")
    return admin, anna, boris, vera


async def test_a_reassign_is_counted_first_then_moves_open_deals_and_their_owner_s_tasks(
    session, clock, company, team
):
    admin, anna, boris, vera = team
    d1, d2, d3 = [await deal(session, anna, title=f"Окна {i}") for i in range(3)]
    won = await deal(session, anna, title="Двери", status=DealStatus.WON)
    theirs = await deal(session, boris, title="Балкон")
    anna_task = await task(session, d1, anna)
    engineer_task = await task(session, d1, vera)  # a measurement someone else does: stays
    done_task = await task(session, d2, anna, status=TaskStatus.DONE)
    chosen = lists.DealFilter(text="")
    by = Actor.of(admin)

    plan = await bulk.plan_reassign(session, chosen, to=boris.id, carry=("task",), by=by)
    assert (plan.moving, plan.closed, plan.already, plan.carried) == (3, 1, 1, {"task": 1})
    assert plan.to.name == "Борис"

    op_id = await bulk.reassign(
        session, chosen, to=boris.id, carry=("task",), expected=3, by=by, company=company
    )
    assert await owners(session, d1, d2, d3) == [(boris.id, boris.office_id)] * 3
    assert await owners(session, won, theirs) == [
        (anna.id, anna.office_id),
        (boris.id, boris.office_id),
    ]
    assignees = dict((await session.execute(sa.select(Task.id, Task.assignee_id))).all())
    assert assignees == {anna_task.id: boris.id, engineer_task.id: vera.id, done_task.id: anna.id}
    op = await session.get(BulkOperation, op_id)
    assert (op.count, op.params["counts"], op.actor_id) == (3, {"deal": 3, "task": 1}, admin.id)
    assert op.undo_until == clock.now() + timedelta(hours=24)
    logged = await session.scalar(
        sa.select(AuditEntry).where(AuditEntry.entity_type == "bulk", AuditEntry.entity_id == op_id)
    )
    assert (logged.action, logged.data["count"], logged.data["to"]) == (
        "bulk.deals_reassigned",
        3,
        "Борис",
    )
    told = await summaries(session)
    assert set(told) == {str(boris.telegram_id), str(anna.telegram_id)}
    assert told[str(boris.telegram_id)] | {"by": "Админ"} == {
        "operation_id": op_id,
        "event": "given",
        "counts": {"deal": 3, "task": 1},
        "by": "Админ",
        "to": "Борис",
    }
    assert told[str(anna.telegram_id)]["event"] == "taken"
    assert told[str(anna.telegram_id)]["counts"] == {"deal": 3, "task": 1}


async def test_a_count_that_changed_since_it_was_shown_writes_nothing(
    session, clock, company, team
):
    admin, anna, boris, _vera = team
    d1 = await deal(session, anna)
    await deal(session, anna)
    with pytest.raises(Conflict) as refused:
        async with session.begin_nested():
            await bulk.reassign(
                session,
                lists.DealFilter(),
                to=boris.id,
                carry=(),
                expected=1,
                by=Actor.of(admin),
                company=company,
            )
    assert refused.value.params == {"count": 2}
    assert await owners(session, d1) == [(anna.id, anna.office_id)]
    assert await factories.count(session, BulkOperation) == 0
    assert await factories.count(session, BulkOperationRow) == 0
    assert await summaries(session) == {}


async def test_a_manager_changes_only_their_office_s_deals_and_gives_within_it(
    session, clock, company, team
):
    _admin, anna, boris, vera = team
    manager = await factories.employee(
        session, clock, name="Мария", role=Role.MANAGER, office="Казань"
    )
    ours = await deal(session, anna)
    other = await deal(session, boris)
    by = Actor.of(manager)
    # Ticking another office's deal by hand (a forged form) does not reach it.
    ticked = lists.DealFilter(ids=(ours.id, other.id))
    plan = await bulk.plan_reassign(session, ticked, to=vera.id, carry=(), by=by)
    assert plan.moving == 1
    await bulk.reassign(session, ticked, to=vera.id, carry=(), expected=1, by=by, company=company)
    assert await owners(session, ours, other) == [
        (vera.id, vera.office_id),
        (boris.id, boris.office_id),
    ]
    with pytest.raises(AccessDenied):
        await bulk.plan_reassign(session, ticked, to=boris.id, carry=(), by=by)
    with pytest.raises(AccessDenied):
        await bulk.plan_reassign(session, ticked, to=vera.id, carry=(), by=Actor.of(anna))
    await factories.employee(session, clock, name="Ушла", office="Казань")
    gone = await factories.employee(session, clock, name="Ушедший", office="Казань")
    gone.is_active = False
    await session.flush()
    with pytest.raises(NotFound):
        await bulk.plan_reassign(session, ticked, to=gone.id, carry=(), by=by)


async def test_undo_puts_back_what_nobody_changed_since_and_says_what_it_kept(
    session, clock, company, team
):
    admin, anna, boris, vera = team
    d1, d2, d3, d4 = [await deal(session, anna, title=f"Окна {i}") for i in range(4)]
    t1 = await task(session, d1, anna)
    t2 = await task(session, d2, anna)
    by = Actor.of(admin)
    op_id = await bulk.reassign(
        session,
        lists.DealFilter(owner_id=anna.id),
        to=boris.id,
        carry=("task",),
        expected=4,
        by=by,
        company=company,
    )
    clock.advance(hours=3)
    # Since then: d2 went on to Vera, Boris won d3, and t2 was done.
    await session.execute(sa.update(Deal).where(Deal.id == d2.id).values(owner_id=vera.id))
    await session.execute(sa.update(Deal).where(Deal.id == d3.id).values(status=DealStatus.WON))
    await session.execute(sa.update(Task).where(Task.id == t2.id).values(status=TaskStatus.DONE))
    await session.execute(sa.delete(OutboxMessage))

    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert undone == bulk.Undone(back={"deal": 2, "task": 1}, kept={"deal": 2, "task": 1})
    assert await owners(session, d1, d2, d3, d4) == [
        (anna.id, anna.office_id),
        (vera.id, boris.office_id),
        (boris.id, boris.office_id),
        (anna.id, anna.office_id),
    ]
    assert await session.scalar(sa.select(Task.assignee_id).where(Task.id == t1.id)) == anna.id
    told = await summaries(session)
    assert told[str(anna.telegram_id)]["event"] == "given_back"
    assert told[str(anna.telegram_id)]["counts"] == {"deal": 2, "task": 1}
    assert told[str(boris.telegram_id)]["event"] == "taken_back"
    assert str(vera.telegram_id) not in told
    with pytest.raises(Conflict):
        await bulk.undo(session, op_id, by=by, company=company)


async def test_undo_is_refused_after_a_day_and_to_a_manager_who_did_not_make_it(
    session, clock, company, team
):
    admin, anna, boris, _vera = team
    manager = await factories.employee(
        session, clock, name="Мария", role=Role.MANAGER, office="Казань"
    )
    d1 = await deal(session, anna)
    op_id = await bulk.reassign(
        session,
        lists.DealFilter(),
        to=boris.id,
        carry=(),
        expected=1,
        by=Actor.of(admin),
        company=company,
    )
    with pytest.raises(NotFound):
        await bulk.undo(session, op_id, by=Actor.of(manager), company=company)
    clock.advance(hours=24)
    with pytest.raises(Conflict) as refused:
        await bulk.undo(session, op_id, by=Actor.of(admin), company=company)
    assert refused.value.key == "bulk.undo_expired"
    assert await owners(session, d1) == [(boris.id, boris.office_id)]


async def test_the_deal_list_pages_by_key_through_every_deal_once_in_order(
    session, clock, company, team
):
    """Amounts with ties and blanks, sorted both ways, a page of 7 at a time: the pages
    joined are the whole sorted list, each deal once."""
    _admin, anna, _boris, _vera = team
    amounts = [None, Decimal(5), Decimal("5.00"), Decimal(0), Decimal(120), None, Decimal(7)]
    made = [await deal(session, anna, title=f"D{i}", amount=amounts[i % 7]) for i in range(30)]
    by_amount = sorted(made, key=lambda d: (d.amount or 0, d.id), reverse=True)
    for sort, expected in (
        (lists.DealSort.AMOUNT_DOWN, by_amount),
        (lists.DealSort.AMOUNT_UP, by_amount[::-1]),
        (lists.DealSort.NEWEST, sorted(made, key=lambda d: -d.id)),
        (lists.DealSort.OLDEST, sorted(made, key=lambda d: d.id)),
    ):
        seen, after = [], None
        while True:
            page = await lists.page(session, lists.DealFilter(), sort=sort, after=after, size=7)
            seen += [row.id for row in page.rows]
            if page.next_after is None:
                break
            after = page.next_after
        assert seen == [d.id for d in expected], sort


async def test_a_client_reassign_carries_what_was_chosen_of_what_their_owner_held(
    session, clock, company, team
):
    from models import Channel, Conversation

    admin, anna, boris, vera = team
    d1 = await deal(session, anna, title="Окна")
    client_id = d1.client_id
    d2 = Deal(**{c: getattr(d1, c) for c in ("client_id", "pipeline_id", "stage_id", "title")})
    d2.owner_id, d2.office_id = vera.id, vera.office_id  # a colleague's deal with the client
    won = Deal(**{c: getattr(d1, c) for c in ("client_id", "pipeline_id", "stage_id", "title")})
    won.owner_id, won.status = anna.id, DealStatus.WON
    session.add_all([d2, won])
    t1 = Task(title="Позвонить", client_id=client_id, assignee_id=anna.id)
    chats = [
        Conversation(client_id=client_id, channel=Channel.WHATSAPP, external_chat_id="a"),
        Conversation(
            client_id=client_id, channel=Channel.TELEGRAM, external_chat_id="b", assignee_id=vera.id
        ),
    ]
    session.add_all([t1, *chats])
    await session.flush()
    other = await deal(session, anna, title="Другой клиент")  # another client of Анна's
    by = Actor.of(admin)
    chosen = client_lists.ClientFilter(ids=(client_id,))

    plan = await bulk.plan_reassign(
        session, chosen, to=boris.id, carry=("deal", "conversation"), by=by
    )
    assert (plan.moving, plan.carried) == (1, {"deal": 1, "conversation": 1})
    op_id = await bulk.reassign(
        session,
        chosen,
        to=boris.id,
        carry=("deal", "conversation"),
        expected=1,
        by=by,
        company=company,
    )
    client = await session.get(Client, client_id, populate_existing=True)
    assert (client.owner_id, client.office_id) == (boris.id, boris.office_id)
    assert await owners(session, d1, d2, won, other) == [
        (boris.id, boris.office_id),
        (vera.id, vera.office_id),
        (anna.id, None),
        (anna.id, anna.office_id),
    ]
    assert await session.scalar(sa.select(Task.assignee_id).where(Task.id == t1.id)) == anna.id
    answering = dict(
        (await session.execute(sa.select(Conversation.id, Conversation.assignee_id))).all()
    )
    assert answering == {chats[0].id: boris.id, chats[1].id: vera.id}
    told = await summaries(session)
    assert told[str(boris.telegram_id)]["counts"] == {"client": 1, "deal": 1, "conversation": 1}
    assert told[str(anna.telegram_id)]["counts"] == {"client": 1, "deal": 1}

    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert undone.back == {"client": 1, "deal": 1, "conversation": 1}
    client = await session.get(Client, client_id, populate_existing=True)
    assert client.owner_id == anna.id
    answering = dict(
        (await session.execute(sa.select(Conversation.id, Conversation.assignee_id))).all()
    )
    assert answering == {chats[0].id: None, chats[1].id: vera.id}


async def stage_id(session, name: str) -> int:
    from models import PipelineStage

    found = await session.scalar(sa.select(PipelineStage.id).where(PipelineStage.name == name))
    assert found is not None
    return found


async def test_deals_moved_to_a_stage_in_bulk_record_their_moves_and_come_back_on_undo(
    session, clock, company, team
):
    from models import DealStageChange
    from tests.report_data import second_pipeline

    admin, anna, boris, _vera = team
    d1, d2 = await deal(session, anna, title="Окна"), await deal(session, boris, title="Двери")
    there = await deal(session, anna, title="Балкон")
    talks = await stage_id(session, "Переговоры")
    there.stage_id = talks
    won = await deal(session, anna, title="Крыша", status=DealStatus.WON)
    other = await deal(session, anna, title="Ремонт")
    other.pipeline_id = await second_pipeline(session)
    other.stage_id = await stage_id(session, "Заявка")
    await session.flush()
    before = d1.stage_id
    by = Actor.of(admin)

    plan = await bulk.plan_move(session, lists.DealFilter(), stage_id=talks, by=by)
    assert (plan.moving, plan.closed, plan.already, plan.elsewhere) == (2, 1, 1, 1)
    op_id = await bulk.move_deals(
        session, lists.DealFilter(), stage_id=talks, expected=2, by=by, company=company
    )
    stages = dict((await session.execute(sa.select(Deal.id, Deal.stage_id))).all())
    assert stages[d1.id] == stages[d2.id] == talks and stages[other.id] != talks
    moves = (
        await session.execute(
            sa.select(
                DealStageChange.deal_id, DealStageChange.from_stage_id, DealStageChange.by_id
            ).where(DealStageChange.to_stage_id == talks)
        )
    ).all()
    assert sorted(moves) == sorted([(d1.id, before, admin.id), (d2.id, before, admin.id)])
    told = await summaries(session)
    assert told[str(anna.telegram_id)] | {"by": ""} == {
        "operation_id": op_id,
        "event": "moved",
        "counts": {"deal": 1},
        "by": "",
        "to": "",
        "stage": "Переговоры",
    }
    assert told[str(boris.telegram_id)]["counts"] == {"deal": 1}

    clock.advance(hours=1)
    await session.execute(sa.update(Deal).where(Deal.id == d2.id).values(stage_id=before))
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert undone == bulk.Undone(back={"deal": 1}, kept={"deal": 1})
    stages = dict((await session.execute(sa.select(Deal.id, Deal.stage_id))).all())
    assert stages[d1.id] == before and stages[there.id] == talks
    left = (
        await session.execute(
            sa.select(DealStageChange.deal_id).where(DealStageChange.to_stage_id == talks)
        )
    ).scalars()
    assert list(left) == [d2.id]  # d1's move is taken back; d2 moved on since, its stays
    assert won.status is DealStatus.WON


async def test_deals_lost_in_bulk_need_a_reason_and_reopen_on_undo(session, clock, company, team):
    from services.errors import InvalidInput

    admin, anna, _boris, _vera = team
    d1 = await deal(session, anna, title="Окна")
    before = d1.stage_id
    lost = await stage_id(session, "Не реализовано")
    by = Actor.of(admin)
    chosen = lists.DealFilter(ids=(d1.id,))
    with pytest.raises(InvalidInput):
        await bulk.move_deals(session, chosen, stage_id=lost, expected=1, by=by, company=company)
    op_id = await bulk.move_deals(
        session, chosen, stage_id=lost, reason="price", expected=1, by=by, company=company
    )
    row = (await session.execute(sa.select(Deal).where(Deal.id == d1.id))).scalar_one()
    await session.refresh(row)
    assert (row.status, row.lost_reason, row.closed_at) == (DealStatus.LOST, "price", clock.now())
    await bulk.undo(session, op_id, by=by, company=company)
    await session.refresh(row)
    assert (row.status, row.stage_id, row.lost_reason, row.closed_at) == (
        DealStatus.OPEN,
        before,
        None,
        None,
    )


async def test_a_task_for_each_deal_goes_to_its_owner_and_undo_cancels_the_open_ones(
    session, clock, company, team
):
    from datetime import timedelta

    admin, anna, boris, _vera = team
    d1, d2 = await deal(session, anna, title="Окна"), await deal(session, anna, title="Двери")
    d3 = await deal(session, boris, title="Балкон")
    nobody = await deal(session, anna, title="Ничья")
    nobody.owner_id = None
    await deal(session, anna, title="Крыша", status=DealStatus.WON)
    await session.flush()
    by, due = Actor.of(admin), clock.now() + timedelta(days=2)

    plan = await bulk.plan_tasks(session, lists.DealFilter(), assignee_id=None, by=by)
    assert (plan.tasks, plan.unowned, plan.closed, plan.people) == (3, 1, 1, 2)
    op_id = await bulk.task_for_each(
        session,
        lists.DealFilter(),
        title="  Перезвонить   по акции ",
        due_at=due,
        assignee_id=None,
        expected=3,
        by=by,
        company=company,
    )
    made = (await session.execute(sa.select(Task).order_by(Task.deal_id))).scalars().all()
    assert [(t.deal_id, t.assignee_id, t.client_id) for t in made] == [
        (d1.id, anna.id, d1.client_id),
        (d2.id, anna.id, d2.client_id),
        (d3.id, boris.id, d3.client_id),
    ]
    assert {(t.title, t.due_at, t.remind_at, t.status) for t in made} == {
        ("Перезвонить по акции", due, due, TaskStatus.OPEN)
    }
    told = await summaries(session)
    assert told[str(anna.telegram_id)]["counts"] == {"task": 2}
    assert told[str(anna.telegram_id)]["title"] == "Перезвонить по акции"

    made[0].status = TaskStatus.DONE
    await session.flush()
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert undone == bulk.Undone(back={"task": 2}, kept={"task": 1})
    statuses = [
        (t.status, t.remind_at)
        for t in (
            await session.execute(
                sa.select(Task).order_by(Task.deal_id).execution_options(populate_existing=True)
            )
        ).scalars()
    ]
    assert statuses == [
        (TaskStatus.DONE, due),
        (TaskStatus.CANCELLED, None),
        (TaskStatus.CANCELLED, None),
    ]


async def test_a_task_for_each_client_can_go_to_one_person_of_the_manager_s_office(
    session, clock, company, team
):
    from datetime import timedelta

    _admin, anna, boris, vera = team
    manager = await factories.employee(
        session, clock, name="Мария", role=Role.MANAGER, office="Казань"
    )
    ours, theirs = await deal(session, anna), await deal(session, boris)
    by, due = Actor.of(manager), clock.now() + timedelta(days=1)
    everyone = client_lists.ClientFilter()
    with pytest.raises(AccessDenied):
        await bulk.plan_tasks(session, everyone, assignee_id=boris.id, by=by)
    plan = await bulk.plan_tasks(session, everyone, assignee_id=vera.id, by=by)
    assert (plan.tasks, plan.people) == (1, 1)  # Казань's client only
    await bulk.task_for_each(
        session,
        everyone,
        title="Поздравить",
        due_at=due,
        assignee_id=vera.id,
        expected=1,
        by=by,
        company=company,
    )
    [task] = (await session.execute(sa.select(Task))).scalars().all()
    assert (task.client_id, task.assignee_id, task.deal_id) == (ours.client_id, vera.id, None)
    assert theirs.client_id != task.client_id


async def test_the_task_list_pages_by_due_time_and_tasks_move_in_bulk(
    session, clock, company, team
):
    from datetime import timedelta

    from services.tasks import table as task_table

    admin, anna, boris, _vera = team
    made = []
    for i in range(17):
        made.append(
            Task(
                title=f"Задача {i}",
                assignee_id=anna.id if i % 3 else boris.id,
                due_at=clock.now() + timedelta(hours=i % 5),  # ties on due times
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    session.add_all(made)
    await session.flush()
    expected = sorted(made, key=lambda t: (t.due_at, t.id))
    seen, after = [], None
    while True:
        page = await task_table.page(
            session, task_table.TaskFilter(), sort=task_table.TaskSort.DUE, after=after, size=4
        )
        seen += [row.id for row in page.rows]
        if (after := page.next_after) is None:
            break
    assert seen == [t.id for t in expected]
    clock.advance(hours=2, minutes=30)
    overdue = task_table.TaskFilter(overdue_at=clock.now(), assignee_id=anna.id)
    late = await task_table.page(session, overdue)
    assert sorted(r.id for r in late.rows) == sorted(
        t.id for t in made if t.assignee_id == anna.id and t.due_at < clock.now()
    )
    by = Actor.of(admin)
    plan = await bulk.plan_reassign(session, overdue, to=boris.id, by=by)
    op_id = await bulk.reassign(
        session, overdue, to=boris.id, expected=plan.moving, by=by, company=company
    )
    assert plan.moving == len(late.rows) > 0
    holders = dict((await session.execute(sa.select(Task.id, Task.assignee_id))).all())
    assert all(holders[r.id] == boris.id for r in late.rows)
    await bulk.undo(session, op_id, by=by, company=company)
    holders = dict((await session.execute(sa.select(Task.id, Task.assignee_id))).all())
    assert all(holders[r.id] == anna.id for r in late.rows)


async def test_undoing_an_earlier_change_leaves_what_a_later_one_moved(
    session, clock, company, team
):
    admin, anna, boris, vera = team
    d1, d2 = await deal(session, anna, title="Окна"), await deal(session, anna, title="Двери")
    by = Actor.of(admin)
    first = await bulk.reassign(
        session,
        lists.DealFilter(owner_id=anna.id),
        to=boris.id,
        expected=2,
        by=by,
        company=company,
    )
    await bulk.reassign(
        session, lists.DealFilter(ids=(d1.id,)), to=vera.id, expected=1, by=by, company=company
    )
    await bulk.reassign(
        session, lists.DealFilter(ids=(d1.id,)), to=boris.id, expected=1, by=by, company=company
    )
    undone = await bulk.undo(session, first, by=by, company=company)
    assert undone == bulk.Undone(back={"deal": 1}, kept={"deal": 1})
    assert await owners(session, d1, d2) == [
        (boris.id, boris.office_id),  # the third change's, left alone
        (anna.id, anna.office_id),
    ]


async def test_a_manager_s_client_reassign_leaves_the_client_s_deal_with_another_office(
    session, clock, company, team
):
    _admin, anna, boris, vera = team
    manager = await factories.employee(
        session, clock, name="Мария", role=Role.MANAGER, office="Казань"
    )
    ours = await deal(session, anna, title="Окна")
    elsewhere = Deal(
        **{c: getattr(ours, c) for c in ("client_id", "pipeline_id", "stage_id", "title")}
    )
    elsewhere.owner_id, elsewhere.office_id = anna.id, boris.office_id  # Анна's, for Самара
    session.add(elsewhere)
    await session.flush()
    client = await session.get(Client, ours.client_id)
    client.office_id = anna.office_id
    chosen = client_lists.ClientFilter(ids=(ours.client_id,))
    by = Actor.of(manager)
    plan = await bulk.plan_reassign(session, chosen, to=vera.id, carry=("deal",), by=by)
    assert plan.carried == {"deal": 1}
    await bulk.reassign(
        session, chosen, to=vera.id, carry=("deal",), expected=1, by=by, company=company
    )
    assert await owners(session, ours, elsewhere) == [
        (vera.id, vera.office_id),
        (anna.id, boris.office_id),
    ]


async def test_tasks_are_closed_in_bulk_each_assignee_told_once_and_reopened_on_undo(
    session, clock, company, team
):
    from services.tasks import table as task_table

    admin, anna, boris, _vera = team
    d = await deal(session, anna)
    mine = [await task(session, d, anna) for _ in range(3)]
    done = await task(session, d, anna, status=TaskStatus.DONE)
    other = await task(session, d, boris)
    by = Actor.of(admin)
    annas = task_table.TaskFilter(assignee_id=anna.id)
    plan = await bulk.plan_close(session, annas, status=TaskStatus.CANCELLED, by=by)
    assert (plan.closing, plan.closed) == (3, 1)
    with pytest.raises(Conflict):  # a task came or went since the count
        await bulk.close_tasks(
            session, annas, status=TaskStatus.CANCELLED, expected=4, by=by, company=company
        )
    op_id = await bulk.close_tasks(
        session, annas, status=TaskStatus.CANCELLED, expected=3, by=by, company=company
    )
    statuses = dict((await session.execute(sa.select(Task.id, Task.status))).all())
    assert [statuses[t.id] for t in mine] == [TaskStatus.CANCELLED] * 3
    assert (statuses[done.id], statuses[other.id]) == (TaskStatus.DONE, TaskStatus.OPEN)
    told = await summaries(session)
    assert told[str(anna.telegram_id)]["event"] == "tasks_closed"
    assert told[str(anna.telegram_id)]["counts"] == {"task": 3}
    assert str(boris.telegram_id) not in told
    clock.advance(hours=1)
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert (undone.back, undone.kept) == ({"task": 3}, {"task": 0})
    statuses = dict((await session.execute(sa.select(Task.id, Task.status))).all())
    assert [statuses[t.id] for t in mine] == [TaskStatus.OPEN] * 3
    assert statuses[done.id] is TaskStatus.DONE  # it was done before: undo leaves it
    stmt = sa.select(OutboxMessage.payload).where(OutboxMessage.kind == bulk.SUMMARY)
    events = [p["event"] for p in (await session.execute(stmt)).scalars()]
    assert sorted(events) == ["tasks_closed", "tasks_reopened"]


async def test_a_manager_closes_only_their_office_s_tasks(session, clock, company, team):
    from services.tasks import table as task_table

    _admin, anna, boris, _vera = team
    samara = await factories.employee(session, clock, name="Сергей", role=Role.MANAGER)
    samara.office_id = boris.office_id
    d = await deal(session, anna)
    await task(session, d, anna)
    everyone = task_table.TaskFilter()
    by = Actor.of(samara)
    plan = await bulk.plan_close(session, everyone, status=TaskStatus.DONE, by=by)
    assert plan.closing == 0  # Anna is of Kazan
    with pytest.raises(AccessDenied):
        await bulk.plan_close(session, everyone, status=TaskStatus.DONE, by=Actor.of(anna))


async def test_tasks_closed_in_bulk_remind_nobody_until_undo_reopens_them(
    session, clock, company, team
):
    from datetime import timedelta

    from services import tasks as task_service
    from services.tasks import table as task_table

    admin, anna, _boris, _vera = team
    d = await deal(session, anna)
    mine = [await task(session, d, anna) for _ in range(2)]
    for t in mine:
        t.due_at = t.remind_at = clock.now() + timedelta(minutes=10)
    await session.flush()
    by, annas = Actor.of(admin), task_table.TaskFilter(assignee_id=anna.id)
    op_id = await bulk.close_tasks(
        session, annas, status=TaskStatus.DONE, expected=2, by=by, company=company
    )
    clock.advance(minutes=30)
    assert (await task_service.fire_due(session, company)).count == 0
    await bulk.undo(session, op_id, by=by, company=company)
    assert (await task_service.fire_due(session, company)).count == 2  # open again: they remind
