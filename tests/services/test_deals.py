"""services.deals without a chat: who owns a new deal and where, what a move records, what
reopening restores, which reasons are accepted, and who may act on a deal."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import AuditEntry, Client, DealStageChange, DealStatus, PipelineStage, Role
from services import access, deals
from services.actors import Actor
from services.errors import AccessDenied, Conflict, InvalidInput
from tests import factories


async def stage(session, name: str) -> int:
    found = await session.scalar(sa.select(PipelineStage.id).where(PipelineStage.name == name))
    assert found is not None
    return found


async def client_of(session, owner, *, name: str | None = "Иван", company: str | None = None):
    client = Client(name=name, company=company, owner_id=owner.id, office_id=owner.office_id)
    session.add(client)
    await session.flush()
    return client


async def test_a_new_deal_is_the_creator_s_in_their_office_with_its_first_move(
    session, clock, company
):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    client = await client_of(session, anna, name=None, company="ООО Ромашка")
    deal = await deals.create_for_client(session, client.id, by=Actor.of(anna), company=company)
    assert (deal.title, deal.owner_id, deal.office_id) == ("ООО Ромашка", anna.id, anna.office_id)
    assert deal.stage_id == await stage(session, "Первичный контакт")
    [move] = (await session.execute(sa.select(DealStageChange))).scalars()
    assert (move.from_stage_id, move.to_stage_id, move.by_id) == (None, deal.stage_id, anna.id)
    created = await session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "deal.created"))
    assert created is not None and created.actor_id == anna.id
    assert created.data["changes"]["title"] == [None, "ООО Ромашка"]


async def test_an_admin_s_deal_goes_to_the_client_s_office(session, clock, company):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    admin = await factories.employee(session, clock, name="Админ", role=Role.ADMIN)
    client = await client_of(session, anna)
    deal = await deals.create_for_client(session, client.id, by=Actor.of(admin), company=company)
    assert (deal.owner_id, deal.office_id) == (admin.id, anna.office_id)


async def test_someone_who_cannot_see_the_client_cannot_open_a_deal_for_them(
    session, clock, company
):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    boris = await factories.employee(session, clock, name="Борис", office="Казань")
    client = await client_of(session, anna)
    with pytest.raises(AccessDenied):
        await deals.create_for_client(session, client.id, by=Actor.of(boris), company=company)


async def test_reopening_returns_to_the_stage_the_deal_was_closed_from(session, clock, company):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    by = Actor.of(anna)
    deal = await deals.create_for_client(
        session, (await client_of(session, anna)).id, by=by, company=company
    )
    talks = await stage(session, "Принимают решение")
    await deals.move_to_stage(session, deal.id, talks, by=by, company=company)
    await deals.lose(session, deal.id, "competitor", by=by, company=company)
    assert (deal.status, deal.lost_reason) == (DealStatus.LOST, "competitor")
    assert deal.closed_at == clock.now()
    with pytest.raises(Conflict):
        await deals.move_to_stage(session, deal.id, talks, by=by, company=company)
    await deals.reopen(session, deal.id, by=by, company=company)
    assert (deal.status, deal.stage_id, deal.closed_at, deal.lost_reason) == (
        DealStatus.OPEN,
        talks,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("reason", "text", "key"),
    [
        ("cheap", None, "deal.bad_reason"),
        ("other", None, "deal.reason_empty"),
        ("other", "   ", "deal.reason_empty"),
        ("other", "x" * 401, "deal.reason_too_long"),
    ],
)
async def test_a_lost_reason_is_a_known_code_or_typed_text(
    session, clock, company, reason, text, key
):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    by = Actor.of(anna)
    deal = await deals.create_for_client(
        session, (await client_of(session, anna)).id, by=by, company=company
    )
    with pytest.raises(InvalidInput) as refused:
        await deals.lose(session, deal.id, reason, text=text, by=by, company=company)
    assert refused.value.key == key
    assert deal.status is DealStatus.OPEN


async def test_the_card_shows_gross_profit_as_amount_less_cost(session, clock, company):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    by = Actor.of(anna)
    deal = await deals.create_for_client(
        session, (await client_of(session, anna)).id, by=by, company=company
    )
    assert (await deals.card(session, deal.id, by=by)).gross_profit is None
    await deals.set_amount(session, deal.id, "150 000 ₽", by=by, company=company)
    assert (await deals.card(session, deal.id, by=by)).gross_profit == Decimal("150000")
    await deals.set_cost(session, deal.id, Decimal("90000.25"), by=by, company=company)
    assert (await deals.card(session, deal.id, by=by)).gross_profit == Decimal("59999.75")


async def test_summaries_count_deals_without_an_amount_and_sum_the_rest(session, clock, company):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    by = Actor.of(anna)
    client_id = (await client_of(session, anna)).id
    priced = await deals.create_for_client(session, client_id, by=by, company=company)
    await deals.set_amount(session, priced.id, "10", by=by, company=company)
    await deals.create_for_client(session, client_id, by=by, company=company)
    summary = await deals.by_stage(session, by=by, employee_id=anna.id)
    [working] = [s for s in summary.stages if s.stage.name == "Первичный контакт"]
    assert (working.count, working.amount) == (2, Decimal("10"))
    assert summary.employee == "Анна"


@pytest.mark.parametrize(
    ("role", "office", "allowed"),
    [
        (Role.EMPLOYEE, 1, False),  # a colleague
        (Role.MANAGER, 1, True),  # the office's manager
        (Role.MANAGER, 2, False),  # another office's manager
        (Role.MANAGER, None, True),  # a manager over every office
        (Role.ADMIN, 2, True),
        (Role.SUPPORT, 1, False),
    ],
)
def test_who_may_act_on_a_deal(role: Role, office: int | None, allowed: bool) -> None:
    who = Actor(id=2, role=role, office_id=office, name="x")
    assert access.can_act_on_deal(who, owner_id=1, office_id=1) is allowed
    owner = Actor(id=1, role=Role.EMPLOYEE, office_id=5, name="owner")
    assert access.can_act_on_deal(owner, owner_id=1, office_id=1)
