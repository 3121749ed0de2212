"""Registering incoming leads: one person is one client; nothing bogus is stored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import ChannelIdentity, Client, Lead, LeadStatus, OutboxMessage, Role
from services import leads
from services.assignment import Reason
from services.errors import InvalidInput
from tests import factories


def lead(**fields: object) -> leads.LeadIn:
    return leads.LeadIn(source=str(fields.pop("source", "form:site")), **fields)  # type: ignore[arg-type]


async def test_phone_variants_from_call_form_and_whatsapp_collapse_into_one_client(
    session, company, clock
) -> None:
    await factories.employee(session, clock)
    first = await leads.register_incoming(
        session, lead(phone="+7 912 000-11-22", name="Иван"), company=company
    )
    second = await leads.register_incoming(
        session, lead(phone="8(912)0001122", source="form:tilda"), company=company
    )
    third = await leads.register_incoming(
        session, lead(phone="79120001122", email="IVAN@mail.ru"), company=company
    )
    assert first.client_id == second.client_id == third.client_id
    assert (first.returning, second.returning, third.returning) == (False, True, True)
    assert await factories.count(session, Client) == 1
    addresses = set((await session.execute(sa.select(ChannelIdentity.address))).scalars())
    assert addresses == {"+79120001122", "ivan@mail.ru"}


async def test_a_returning_client_goes_to_its_owner_even_off_their_turn(session, company, clock):
    anna = await factories.employee(session, clock, name="Анна")
    boris = await factories.employee(session, clock, name="Борис")
    first = await leads.register_incoming(session, lead(phone="+79120001122"), company=company)
    clock.advance(minutes=5)
    other = await leads.register_incoming(session, lead(phone="+79120003344"), company=company)
    clock.advance(minutes=5)
    again = await leads.register_incoming(
        session, lead(email="x@y.ru", phone="89120001122"), company=company
    )
    assert {first.assignee_id, other.assignee_id} == {anna.id, boris.id}
    assert again.assignee_id == first.assignee_id
    assert again.reason is Reason.OWNER


async def test_an_unreadable_phone_is_kept_raw_and_flagged_never_guessed(session, company, clock):
    await factories.employee(session, clock)
    result = await leads.register_incoming(
        session, lead(phone="912-000-11-2", name="Ольга"), company=company
    )
    row = await session.get(Lead, result.lead_id)
    assert row.phone is None and row.raw_phone == "912-000-11-2" and row.phone_invalid
    assert result.warnings == ["invalid_phone"]
    assert await factories.count(session, ChannelIdentity) == 0


async def test_a_lead_with_no_way_to_reach_anyone_is_refused_and_writes_nothing(
    session, company, clock
):
    await factories.employee(session, clock)
    with pytest.raises(InvalidInput):
        await leads.register_incoming(session, lead(comment="hello"), company=company)
    assert await factories.count(session, Lead) == 0
    assert await factories.count(session, Client) == 0


async def test_utm_tags_and_landing_are_recorded(session, company, clock):
    await factories.employee(session, clock)
    result = await leads.register_incoming(
        session,
        lead(
            phone="+79120001122",
            landing_url="https://okna.ru/promo",
            form_name="Замер",
            utm={"utm_source": "yandex", "utm_campaign": "okna-msk", "junk": "x"},
        ),
        company=company,
    )
    row = await session.get(Lead, result.lead_id)
    assert (row.utm_source, row.utm_campaign, row.utm_medium) == ("yandex", "okna-msk", None)
    assert row.landing_url == "https://okna.ru/promo" and row.form_name == "Замер"


async def test_the_same_delivery_twice_is_one_lead_and_one_card(session, company, clock):
    anna = await factories.employee(session, clock)
    event = ("form:tilda", "1234567:8901234")
    first = await leads.register_incoming(
        session, lead(phone="+79120001122"), company=company, event=event
    )
    again = await leads.register_incoming(
        session, lead(phone="+79120001122"), company=company, event=event
    )
    assert not first.duplicate and again.duplicate
    assert await factories.count(session, Lead) == 1
    cards = (await session.execute(sa.select(OutboxMessage))).scalars().all()
    assert [(c.kind, c.recipient) for c in cards] == [("lead_card", str(anna.telegram_id))]


async def test_taking_a_lead_makes_it_a_target_deal_and_records_response_time(
    session, company, clock
):
    anna = await factories.employee(session, clock)
    result = await leads.register_incoming(
        session, lead(phone="+79120001122", name="Иван"), company=company
    )
    clock.advance(seconds=42)
    from services.actors import Actor

    taken = await leads.take(session, result.lead_id, by=Actor.of(anna), company=company)
    assert taken.status is LeadStatus.TARGET and taken.first_response_seconds == 42
    client = await session.get(Client, result.client_id)
    assert client.owner_id == anna.id
    from models import Deal

    deal = (await session.execute(sa.select(Deal))).scalar_one()
    assert deal.title == "Иван" and deal.owner_id == anna.id


async def test_only_the_assignee_or_the_office_manager_may_act_on_a_lead(session, company, clock):
    from services.actors import Actor
    from services.errors import AccessDenied

    anna = await factories.employee(session, clock, name="Анна", office="Москва")
    boris = await factories.employee(session, clock, name="Борис", office="Москва")
    boss = await factories.employee(session, clock, name="Вера", office="Москва", role=Role.MANAGER)
    other_boss = await factories.employee(
        session, clock, name="Глеб", office="Казань", role=Role.MANAGER
    )
    result = await leads.register_incoming(session, lead(phone="+79120001122"), company=company)
    assignee, bystander = (anna, boris) if result.assignee_id == anna.id else (boris, anna)
    for outsider in (bystander, other_boss):
        with pytest.raises(AccessDenied):
            await leads.take(session, result.lead_id, by=Actor.of(outsider), company=company)
    assert (await session.get(Lead, result.lead_id)).status is LeadStatus.NEW
    rejected = await leads.reject(
        session,
        result.lead_id,
        LeadStatus.SPAM,
        reason="robot",
        by=Actor.of(boss),
        company=company,
    )
    assert rejected.status is LeadStatus.SPAM and rejected.closed_by_id == boss.id
    assert assignee.id == result.assignee_id
