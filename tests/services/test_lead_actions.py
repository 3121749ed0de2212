"""Acting on a lead: the first response is recorded once, reasons are checked, every change is
audited before → after, and whom a manager may reassign it to."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import AuditEntry, Lead, LeadStatus, Role
from services import leads
from services.actors import Actor
from services.errors import AccessDenied, Conflict, InvalidInput
from tests import factories


async def a_lead(session, company) -> int:
    result = await leads.register_incoming(
        session,
        leads.LeadIn(source="form:site", phone="+79120001122", office="Москва"),
        company=company,
    )
    return result.lead_id


async def entries(session, lead_id: int) -> list[AuditEntry]:
    stmt = (
        sa.select(AuditEntry)
        .where(AuditEntry.entity_type == "lead", AuditEntry.entity_id == lead_id)
        .order_by(AuditEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


async def test_first_response_is_recorded_by_take_and_never_overwritten(session, company, clock):
    anna = await factories.employee(session, clock, name="Анна", office="Москва")
    boris = await factories.employee(session, clock, name="Борис", office="Москва")
    boris.on_shift = False
    lead_id = await a_lead(session, company)
    clock.advance(seconds=42)
    await leads.take(session, lead_id, by=Actor.of(anna), company=company)
    clock.advance(minutes=10)
    await leads.take(session, lead_id, by=Actor.of(anna), company=company)  # a second press
    await leads.assign(session, lead_id, to=boris.id, by=None, company=company)
    lead = await session.get(Lead, lead_id)
    assert (lead.first_response_seconds, lead.assignee_id) == (42, boris.id)
    taken = [e for e in await entries(session, lead_id) if e.action == "lead.taken"]
    assert len(taken) == 1 and taken[0].actor_id == anna.id
    changes = taken[0].data["changes"]
    assert changes["status"] == ["new", "target"] and changes["first_response_seconds"] == [
        None,
        42,
    ]
    assert set(changes) == {"status", "taken_at", "first_response_seconds"}  # only what changed


async def test_first_response_is_recorded_by_reject_and_a_second_reject_keeps_it(
    session, company, clock
):
    anna = await factories.employee(session, clock, name="Анна", office="Москва")
    lead_id = await a_lead(session, company)
    clock.advance(seconds=10)
    by = Actor.of(anna)
    await leads.reject(session, lead_id, LeadStatus.SPAM, reason="robot", by=by, company=company)
    clock.advance(minutes=5)
    again = await leads.reject(
        session, lead_id, LeadStatus.SPAM, reason="advertising", by=by, company=company
    )
    assert (again.first_response_seconds, again.close_reason) == (10, "robot")
    with pytest.raises(Conflict):
        await leads.take(session, lead_id, by=by, company=company)
    assert (await session.get(Lead, lead_id)).first_response_seconds == 10
    [entry] = await entries(session, lead_id)
    assert entry.action == "lead.spam" and entry.data["changes"]["close_reason"] == [None, "robot"]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (LeadStatus.NON_TARGET, "robot"),  # a spam reason
        (LeadStatus.SPAM, "duplicate"),  # a non-target reason
        (LeadStatus.NON_TARGET, ""),
        (LeadStatus.TARGET, "other"),
    ],
)
async def test_a_reason_must_belong_to_the_status(session, company, clock, status, reason):
    anna = await factories.employee(session, clock, name="Анна", office="Москва")
    lead_id = await a_lead(session, company)
    with pytest.raises(InvalidInput):
        await leads.reject(
            session, lead_id, status, reason=reason, by=Actor.of(anna), company=company
        )
    assert (await session.get(Lead, lead_id)).status is LeadStatus.NEW


async def test_reassign_candidates_put_those_on_shift_first_and_only_managers_may_ask(
    session, company, clock
):
    anna = await factories.employee(session, clock, name="Анна", office="Москва")
    yuri = await factories.employee(session, clock, name="Юрий", office="Москва")
    yuri.on_shift = False  # on a break
    await factories.employee(session, clock, name="Борис", office="Москва", telegram=False)
    await factories.employee(session, clock, name="Дима", office="Казань")
    boss = await factories.employee(session, clock, name="Вера", office="Москва", role=Role.MANAGER)
    lead_id = await a_lead(session, company)
    assert (await session.get(Lead, lead_id)).assignee_id == anna.id
    page = await leads.lists.reassign_candidates(
        session, lead_id, by=Actor.of(boss), company=company
    )
    # Anna has it; Boris would never see the card; Dima is in another office.
    assert [(p.name, p.on_shift) for p in page.people] == [("Вера", True), ("Юрий", False)]
    with pytest.raises(AccessDenied):
        await leads.lists.reassign_candidates(session, lead_id, by=Actor.of(anna), company=company)
