"""Marking many new leads non-target or spam at once (services.bulk.rejecting): counted first,
closed in one transaction as one press of the card's button would close each, every card copy
edited, each assignee told once, the manager no longer paged about them, undone for 24 hours."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import AuditEntry, Deal, Lead, LeadStatus, OutboxMessage, OutboxStatus, Role
from services import bulk, escalations, leads
from services.actors import Actor
from services.errors import AccessDenied, Conflict, InvalidInput
from services.leads.table import LeadFilter
from tests import factories
from tests.services.test_bulk import summaries


async def _lead(session, company, phone: str, source: str = "form:promo") -> int:
    found = await leads.register_incoming(
        session, leads.LeadIn(source=source, phone=phone, name="Бот"), company=company
    )
    return found.lead_id


async def _delivered(session) -> None:
    """Every card so far reached its chat (only a delivered card is edited in place)."""
    o = OutboxMessage.__table__
    await session.execute(
        sa.update(o).where(o.c.status == OutboxStatus.PENDING).values(status=OutboxStatus.SENT)
    )


async def _statuses(session, ids: list[int]) -> list[tuple[LeadStatus, str | None]]:
    stmt = sa.select(Lead.id, Lead.status, Lead.close_reason).where(Lead.id.in_(ids))
    rows = {r.id: (r.status, r.close_reason) for r in await session.execute(stmt)}
    return [rows[i] for i in ids]


async def _edits(session) -> dict[int, int]:
    """Lead id → card edits waiting to go out."""
    stmt = (
        sa.select(OutboxMessage.entity_id, sa.func.count())
        .where(OutboxMessage.kind == "lead_card", OutboxMessage.edit_of_id.is_not(None))
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .group_by(OutboxMessage.entity_id)
    )
    return dict((await session.execute(stmt)).all())


@pytest.fixture
async def people(session, clock):
    admin = await factories.employee(session, clock, name="Админ", role=Role.ADMIN)
    anna = await factories.employee(
        session, clock, name="Анна", office="Казань", shifts=factories.WEEKDAYS_9_TO_18
    )
    return admin, anna


async def test_a_flood_of_spam_leads_is_closed_at_once_and_can_be_undone(
    session, clock, company, people
):
    admin, anna = people
    flood = [await _lead(session, company, f"+7912000110{i}") for i in range(3)]
    real = await _lead(session, company, "+79120002233", source="form:site")
    taken = await _lead(session, company, "+79120004455")
    await leads.take(session, taken, by=Actor.of(anna), company=company)
    await _delivered(session)
    promo, by = LeadFilter(source="form:promo"), Actor.of(admin)

    plan = await bulk.plan_reject(session, promo, status=LeadStatus.SPAM, reason="robot", by=by)
    assert (plan.closing, plan.processed) == (3, 1)  # the taken one stays as it is
    with pytest.raises(Conflict):  # a lead came or went since the count
        async with session.begin_nested():  # rolled back, as the request's unit of work is
            await bulk.reject_leads(
                session,
                promo,
                status=LeadStatus.SPAM,
                reason="robot",
                expected=4,
                by=by,
                company=company,
            )
    assert await _statuses(session, flood) == [(LeadStatus.NEW, None)] * 3
    clock.advance(minutes=20)
    op_id = await bulk.reject_leads(
        session, promo, status=LeadStatus.SPAM, reason="robot", expected=3, by=by, company=company
    )

    assert await _statuses(session, [*flood, real, taken]) == [
        *[(LeadStatus.SPAM, "robot")] * 3,
        (LeadStatus.NEW, None),
        (LeadStatus.TARGET, None),
    ]
    closed = (await session.execute(sa.select(Lead).where(Lead.id == flood[0]))).scalar_one()
    assert closed.closed_by_id == admin.id and closed.closed_at == clock.now()
    assert closed.first_response_seconds is None  # a clean-up is nobody's reaction time
    assert await _edits(session) == {lead_id: 1 for lead_id in flood}  # no Take button left
    told = await summaries(session)
    assert told[str(anna.telegram_id)]["event"] == "leads_rejected"
    assert told[str(anna.telegram_id)]["counts"] == {"lead": 3}
    audited = (
        await session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == "bulk.leads_rejected")
        )
    ).scalar_one()
    assert audited.data["count"] == 3 and audited.data["reason"] == "robot"
    with pytest.raises(Conflict):  # Take on a card not yet edited: the lead is closed
        await leads.take(session, flood[0], by=Actor.of(anna), company=company)

    # Only the real lead waits for an answer now: the manager is paged about it alone.
    await escalations.run(session, company)
    paged = await session.execute(
        sa.select(OutboxMessage.entity_id).where(OutboxMessage.kind == escalations.ESCALATION)
    )
    assert sorted(paged.scalars()) == [real]

    await _delivered(session)
    clock.advance(hours=1)
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert (undone.back, undone.kept) == ({"lead": 3}, {"lead": 0})
    assert await _statuses(session, flood) == [(LeadStatus.NEW, None)] * 3
    assert await _edits(session) == {lead_id: 1 for lead_id in flood}  # the buttons are back
    events = sorted(
        p["event"]
        for p in (
            await session.execute(
                sa.select(OutboxMessage.payload).where(OutboxMessage.kind == bulk.SUMMARY)
            )
        ).scalars()
    )
    assert events == ["leads_rejected", "leads_renewed"]
    as_anna = Actor.of(anna)
    session.expire_all()  # the next press is a unit of work of its own
    taken_now = await leads.take(session, flood[0], by=as_anna, company=company)
    assert taken_now.status is LeadStatus.TARGET


async def test_a_second_press_of_mark_changes_nothing(session, clock, company, people):
    admin, _anna = people
    ids = [await _lead(session, company, f"+7912000220{i}") for i in range(2)]
    by, chosen = Actor.of(admin), LeadFilter(ids=tuple(ids))
    await bulk.reject_leads(
        session,
        chosen,
        status=LeadStatus.NON_TARGET,
        reason="test",
        expected=2,
        by=by,
        company=company,
    )
    clock.advance(seconds=1)
    with pytest.raises(Conflict):  # the same form again: none of them is new any more
        async with session.begin_nested():  # rolled back, as the request's unit of work is
            await bulk.reject_leads(
                session,
                chosen,
                status=LeadStatus.SPAM,
                reason="robot",
                expected=2,
                by=by,
                company=company,
            )
    assert await _statuses(session, ids) == [(LeadStatus.NON_TARGET, "test")] * 2
    ops = await session.execute(sa.select(sa.func.count()).select_from(bulk.engine._OP))
    assert ops.scalar_one() == 1


async def test_who_may_mark_what(session, clock, company, people):
    admin, anna = people
    kazan = await _lead(session, company, "+79120003301")
    samara_manager = await factories.employee(
        session, clock, name="Сергей", role=Role.MANAGER, office="Самара"
    )
    everything = LeadFilter()
    with pytest.raises(InvalidInput):  # a reason of the other status
        await bulk.plan_reject(
            session, everything, status=LeadStatus.SPAM, reason="duplicate", by=Actor.of(admin)
        )
    with pytest.raises(AccessDenied):  # an employee works lead by lead, in chat
        await bulk.plan_reject(
            session, everything, status=LeadStatus.SPAM, reason="robot", by=Actor.of(anna)
        )
    plan = await bulk.plan_reject(
        session, everything, status=LeadStatus.SPAM, reason="robot", by=Actor.of(samara_manager)
    )
    assert plan.closing == 0  # Anna's lead is of Kazan
    with pytest.raises(Conflict):
        await bulk.reject_leads(
            session,
            LeadFilter(ids=(kazan,)),
            status=LeadStatus.SPAM,
            reason="robot",
            expected=0,
            by=Actor.of(samara_manager),
            company=company,
        )
    assert await _statuses(session, [kazan]) == [(LeadStatus.NEW, None)]


async def test_leads_given_to_someone_else_bring_their_cards_deal_and_task_and_come_back(
    session, clock, company, people
):
    admin, anna = people
    new = [await _lead(session, company, f"+7912000550{i}") for i in range(3)]
    taken = await _lead(session, company, "+79120005599")
    await leads.take(session, taken, by=Actor.of(anna), company=company)
    boris = await factories.employee(session, clock, name="Борис", office="Казань")
    await _delivered(session)
    annas, by = LeadFilter(assignee_id=anna.id), Actor.of(admin)

    plan = await bulk.plan_reassign(session, annas, to=boris.id, carry=("deal", "task"), by=by)
    assert (plan.moving, plan.carried) == (4, {"deal": 1, "task": 0})
    op_id = await bulk.reassign(
        session, annas, to=boris.id, carry=("deal",), expected=4, by=by, company=company
    )
    whose = dict((await session.execute(sa.select(Lead.id, Lead.assignee_id))).all())
    assert {whose[i] for i in [*new, taken]} == {boris.id}
    deal_owner = await session.scalar(sa.select(Deal.owner_id).where(Deal.lead_id == taken))
    assert deal_owner == boris.id
    cards = await session.execute(
        sa.select(OutboxMessage.entity_id)
        .where(OutboxMessage.kind == "lead_card", OutboxMessage.recipient == str(boris.telegram_id))
        .where(OutboxMessage.edit_of_id.is_(None))
    )
    assert sorted(cards.scalars()) == new  # a card to take each new one; the taken one is his
    assert set(await _edits(session)) == {*new, taken}  # Anna's copies show who has them
    told = await summaries(session)
    assert told[str(boris.telegram_id)]["event"] == "given"
    assert told[str(anna.telegram_id)]["event"] == "taken"

    await _delivered(session)
    undone = await bulk.undo(session, op_id, by=by, company=company)
    assert undone.back == {"lead": 4, "deal": 1}
    whose = dict((await session.execute(sa.select(Lead.id, Lead.assignee_id))).all())
    assert {whose[i] for i in [*new, taken]} == {anna.id}
    again = await session.execute(  # her first cards, edited: Take works on them again
        sa.select(OutboxMessage.entity_id)
        .where(OutboxMessage.kind == "lead_card", OutboxMessage.recipient == str(anna.telegram_id))
        .where(OutboxMessage.edit_of_id.is_not(None), OutboxMessage.status == OutboxStatus.PENDING)
    )
    assert sorted(again.scalars()) == sorted([*new, taken])


async def test_leads_go_only_to_someone_with_telegram(session, clock, company, people):
    admin, _anna = people
    mute = await factories.employee(session, clock, name="Без Telegram", telegram=False)
    await _lead(session, company, "+79120006601")
    with pytest.raises(InvalidInput):
        await bulk.reassign(
            session, LeadFilter(), to=mute.id, expected=1, by=Actor.of(admin), company=company
        )


async def test_the_chat_a_lead_opened_goes_with_it_to_the_new_assignee(
    session, clock, company, people
):
    from models import Channel, Conversation, Direction, Message
    from services.conversations.handover import HISTORY

    admin, _anna = people
    lead_id = await _lead(session, company, "+79120009901")
    lead = await session.get(Lead, lead_id)
    chat = Conversation(
        client_id=lead.client_id, channel=Channel.WHATSAPP, external_chat_id="wa-1", lead_id=lead_id
    )
    session.add(chat)
    await session.flush()
    session.add_all(
        Message(conversation_id=chat.id, channel=Channel.WHATSAPP, direction=Direction.IN, text=t)
        for t in ("Здравствуйте", "Сколько стоит замер?")
    )
    boris = await factories.employee(session, clock, name="Борис", office="Казань")
    await bulk.reassign(
        session,
        LeadFilter(ids=(lead_id,)),
        to=boris.id,
        expected=1,
        by=Actor.of(admin),
        company=company,
    )
    shown = await session.execute(
        sa.select(OutboxMessage.recipient, OutboxMessage.entity_id).where(
            OutboxMessage.kind == HISTORY
        )
    )
    assert shown.all() == [(str(boris.telegram_id), chat.id)]  # the chat so far, to Борис
