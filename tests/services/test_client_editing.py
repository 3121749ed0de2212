"""Creating and editing clients by hand, and notes: validation, duplicates, search text,
audit and access."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import AuditEntry, Channel, ChannelIdentity, Client, Deal, Note, Role
from services import notes
from services.actors import Actor
from services.clients import editing, timeline
from services.clients.editing import ClientIn, IdentityTaken, NewContact
from services.errors import AccessDenied, Conflict, InvalidEmail, InvalidInput, InvalidPhone
from tests import factories
from tests import timeline_data as client_history


@pytest.fixture
async def people(session, clock):
    made = {
        "anna": await factories.employee(session, clock, name="Анна", office="Казань"),
        "boris": await factories.employee(session, clock, name="Борис", office="Казань"),
        "vera": await factories.employee(
            session, clock, name="Вера", office="Москва", role=Role.MANAGER
        ),
        "kazan_boss": await factories.employee(
            session, clock, name="Глеб", office="Казань", role=Role.MANAGER
        ),
    }
    return {key: Actor.of(e) for key, e in made.items()}


async def addresses(session, client_id: int) -> list[tuple[Channel, str]]:
    rows = await session.execute(
        sa.select(ChannelIdentity.channel, ChannelIdentity.address)
        .where(ChannelIdentity.client_id == client_id)
        .order_by(ChannelIdentity.id)
    )
    return [tuple(r) for r in rows.all()]


async def test_a_new_client_is_its_creators_with_normalised_addresses_and_search_text(
    session, clock, people
):
    anna = people["anna"]
    new = ClientIn(
        name="  Семён   Ёлкин ",
        phones=["8 (912) 000-11-22"],
        emails=["Semen@Example.RU"],
        company="ООО «Ёж»",
        contacts=[NewContact("Пётр Сидоров", "+7 912 000 33 44")],
    )
    client_id = await editing.create(session, new, by=anna, now=clock.now())
    client = await session.get(Client, client_id)
    assert (client.name, client.company) == ("Семён Ёлкин", "ООО «Ёж»")
    assert (client.owner_id, client.office_id) == (anna.id, anna.office_id)
    assert client.search_text == "семен елкин ооо «еж» петр сидоров"
    assert await addresses(session, client_id) == [
        (Channel.PHONE, "+79120001122"),
        (Channel.EMAIL, "semen@example.ru"),
        (Channel.PHONE, "+79120003344"),  # the contact person's
    ]
    [entry] = (
        await session.execute(sa.select(AuditEntry).where(AuditEntry.action == "client.create"))
    ).scalars()
    assert entry.actor_id == anna.id and entry.entity_id == client_id
    assert entry.data["changes"]["name"] == [None, "Семён Ёлкин"]
    assert entry.data["changes"]["phones"] == [None, ["+79120001122", "+79120003344"]]


@pytest.mark.parametrize(
    ("new", "error", "key"),
    [
        (ClientIn(name="Иван", phones=["12345"]), InvalidPhone, "client.invalid_phone"),
        (ClientIn(name="Иван", emails=["ivan@"]), InvalidEmail, "client.invalid_email"),
        (ClientIn(name="   "), InvalidInput, "client.name_empty"),
        (
            ClientIn(
                name="Иван", phones=["+79120005566"], contacts=[NewContact("П", "89120005566")]
            ),
            InvalidInput,
            "client.typed_twice",
        ),
    ],
)
async def test_bad_input_is_refused_with_a_clear_key_and_nothing_is_created(
    session, clock, people, new, error, key
):
    with pytest.raises(error) as refused:
        await editing.create(session, new, by=people["anna"], now=clock.now())
    assert refused.value.key == key
    assert await factories.count(session, Client) == 0


async def test_a_phone_of_another_client_names_that_client(session, clock, people):
    anna, boris, boss = people["anna"], people["boris"], people["kazan_boss"]
    mine = await editing.create(
        session, ClientIn(name="Иван", phones=["+79120001122"]), by=anna, now=clock.now()
    )
    again = ClientIn(name="Иван 2", phones=["89120001122"])
    with pytest.raises(IdentityTaken) as seen:
        await editing.create(session, again, by=anna, now=clock.now())
    assert seen.value.visible and seen.value.client_id == mine
    assert seen.value.params["name"] == "Иван" and seen.value.key == "client.taken_visible"
    with pytest.raises(IdentityTaken) as hidden:  # Boris may not see Anna's client
        await editing.create(session, again, by=boris, now=clock.now())
    assert not hidden.value.visible and hidden.value.params["name"] == "—"
    with pytest.raises(Conflict) as same:
        await editing.add_identity(
            session, mine, Channel.PHONE, "+7 912 000 11 22", by=boss, now=clock.now()
        )
    assert same.value.key == "client.already_there"
    assert await factories.count(session, Client) == 1


async def test_edits_keep_search_text_and_audit_before_and_after(session, clock, people):
    anna = people["anna"]
    cid = await editing.create(session, ClientIn(name="Иван"), by=anna, now=clock.now())
    await editing.rename(session, cid, "Иван Ёршов", by=anna, now=clock.now())
    await editing.set_company(session, cid, "Стройка", by=anna, now=clock.now())
    await editing.add_contact_person(
        session, cid, "Алёна", "+79120007788", by=anna, now=clock.now()
    )
    phone = await editing.add_identity(
        session, cid, Channel.PHONE, "8 912 000 99 88", by=anna, now=clock.now()
    )
    assert phone == "+79120009988"
    client = await session.get(Client, cid)
    assert client.search_text == "иван ершов стройка алена"
    [identity_id] = (
        await session.execute(sa.select(ChannelIdentity.id).where(ChannelIdentity.address == phone))
    ).scalars()
    await editing.remove_identity(session, cid, identity_id, by=anna, now=clock.now())
    assert (Channel.PHONE, phone) not in await addresses(session, cid)
    changes = [
        e.data["changes"]
        for e in (
            await session.execute(
                sa.select(AuditEntry)
                .where(AuditEntry.action == "client.update")
                .order_by(AuditEntry.id)
            )
        ).scalars()
    ]
    assert changes == [
        {"name": ["Иван", "Иван Ёршов"]},
        {"company": [None, "Стройка"]},
        {"contacts": [[], ["Алёна"]], "phones": [[], ["+79120007788"]]},
        {"phones": [["+79120007788"], ["+79120007788", "+79120009988"]]},
        {"phones": [["+79120007788", "+79120009988"], ["+79120007788"]]},
    ]


async def test_another_employees_client_or_another_offices_cannot_be_edited(session, clock, people):
    cid = await editing.create(session, ClientIn(name="Иван"), by=people["anna"], now=clock.now())
    for who in (people["boris"], people["vera"]):  # a colleague; a manager of another office
        with pytest.raises(AccessDenied):
            await editing.rename(session, cid, "Чужой", by=who, now=clock.now())
        with pytest.raises(AccessDenied):
            await notes.add(session, "чужая заметка", by=who, now=clock.now(), client_id=cid)
    await editing.rename(session, cid, "Иван Петрович", by=people["kazan_boss"], now=clock.now())
    assert (await session.get(Client, cid)).name == "Иван Петрович"
    assert await factories.count(session, Note) == 0


async def test_notes_on_a_client_and_on_a_deal_show_in_the_clients_timeline(session, clock, people):
    anna = people["anna"]
    cid = await editing.create(session, ClientIn(name="Иван"), by=anna, now=clock.now())
    deal = Deal(
        client_id=cid,
        pipeline_id=1,
        stage_id=await client_history.stage_id(session, "Переговоры"),
        title="Кухня",
        owner_id=anna.id,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(deal)
    await session.flush()
    await notes.add(session, "  Позвонить после обеда ", by=anna, now=clock.now(), client_id=cid)
    clock.advance(minutes=1)
    note_id = await notes.add(session, "Скидка 5%", by=anna, now=clock.now(), deal_id=deal.id)
    on_deal = await session.get(Note, note_id)
    assert (on_deal.client_id, on_deal.deal_id, on_deal.author_id) == (cid, deal.id, anna.id)
    page = await timeline.page(session, cid)
    assert [e.text for e in page.entries if e.kind is timeline.Kind.NOTE] == [
        "Скидка 5%",
        "Позвонить после обеда",
    ]
    with pytest.raises(InvalidInput) as empty:
        await notes.add(session, "   ", by=anna, now=clock.now(), client_id=cid)
    assert empty.value.key == "note.empty"
