"""Finding clients by what an employee types, limited to the clients they may see."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import (
    Channel,
    ChannelIdentity,
    Client,
    ContactPerson,
    Deal,
    Employee,
    Lead,
    LeadStatus,
    Role,
)
from services.actors import Actor
from services.clients import matching
from services.clients.search import Kind, by_identities, classify, search
from services.clock import Clock
from services.deals import pipeline
from tests import factories


async def client(
    session,
    clock: Clock,
    *,
    name: str | None = None,
    company: str | None = None,
    contacts: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    telegram: int | None = None,
    owner: Employee | None = None,
    office_id: int | None = None,
) -> Client:
    """A client as the services store one: search text from its names, normalised addresses."""
    now = clock.now()
    new = Client(
        name=name,
        company=company,
        search_text=matching.search_text_of(name, company, contacts),
        owner_id=owner.id if owner else None,
        office_id=office_id,
        created_at=now,
        updated_at=now,
    )
    session.add(new)
    await session.flush()
    for contact in contacts:
        session.add(ContactPerson(client_id=new.id, name=contact, created_at=now, updated_at=now))
    addresses = [(Channel.PHONE, p) for p in phones] + [(Channel.EMAIL, e) for e in emails]
    if telegram is not None:
        addresses.append((Channel.TELEGRAM, str(telegram)))
    for channel, address in addresses:
        session.add(
            ChannelIdentity(
                client_id=new.id, channel=channel, address=address, created_at=now, updated_at=now
            )
        )
    await session.flush()
    return new


@pytest.fixture
async def book(db, clock):
    """Anna (Kazan) owns Ivan Petrov of Romashka LLC and Olga; Boris (Kazan) owns Semyon;
    Gleb (Moscow) owns Pyotr; Vera manages Kazan; the admin sees everyone."""
    async with db.unit_of_work() as s:
        staff = {
            "anna": await factories.employee(s, clock, name="Анна", office="Казань"),
            "boris": await factories.employee(s, clock, name="Борис", office="Казань"),
            "gleb": await factories.employee(s, clock, name="Глеб", office="Москва"),
            "vera": await factories.employee(
                s, clock, name="Вера", office="Казань", role=Role.MANAGER
            ),
            "admin": await factories.employee(s, clock, name="Админ", role=Role.ADMIN),
        }
        people = {
            "ivan": await client(
                s,
                clock,
                name="Иван Петров",
                company="ООО «Ромашка»",
                contacts=("Пётр Семёнович",),
                phones=("+79120001122",),
                emails=("ivan@example.com",),
                owner=staff["anna"],
            ),
            "olga": await client(
                s, clock, name="Ольга Иванова", phones=("+79130003344",), owner=staff["anna"]
            ),
            "semyon": await client(
                s, clock, name="Семён Кузнецов", phones=("+79140005566",), owner=staff["boris"]
            ),
            "pyotr": await client(
                s, clock, name="Пётр Иванов", phones=("+79150007788",), owner=staff["gleb"]
            ),
        }
        actors = {k: Actor.of(v) for k, v in staff.items()}
        ids = {k: v.id for k, v in people.items()}
    return actors, ids


async def names(db, text: str, by: Actor, **kw) -> list[str | None]:
    async with db.unit_of_work() as s:
        return [f.name for f in await search(s, text, by=by, **kw)]


@pytest.mark.parametrize(
    "text",
    [
        "+7 912 000-11-22",  # as written on a card
        "89120001122",  # as dialled
        "8 (912) 000 11 22",  # as dictated
        "0001122",  # the last digits
        "ivan@EXAMPLE.com",  # an e-mail in any case
        "Петров",  # a word of the name, any case
        "ПЕТРОВ иван",  # words in any order
        "ромашка",  # the company
        "петр семенович",  # a contact person, ё typed as е
    ],
)
async def test_each_kind_of_key_finds_the_client(db, book, text):
    actors, _ = book
    assert await names(db, text, actors["anna"]) == ["Иван Петров"]


async def test_the_found_client_shows_its_phone_and_company_and_the_contact_it_was_found_by(
    db, book
):
    actors, ids = book
    async with db.unit_of_work() as s:
        [found] = await search(s, "семенович", by=actors["anna"])
    assert found.client_id == ids["ivan"]
    assert (found.company, found.phone, found.contact) == (
        "ООО «Ромашка»",
        "+79120001122",
        "Пётр Семёнович",
    )


@pytest.mark.parametrize("who", ["vera", "anna"])  # the office's manager; the owner
async def test_a_name_starting_with_the_word_comes_before_one_containing_it(db, book, who):
    actors, _ = book
    # "иван" starts Ivan Petrov's name and ends Olga Ivanova's surname (newer, so first
    # unranked). An employee's search starts from their own clients; it is ranked the same.
    assert await names(db, "иван", actors[who]) == ["Иван Петров", "Ольга Иванова"]


async def test_an_employee_finds_only_their_own_clients(db, book):
    actors, _ = book
    assert await names(db, "семен", actors["anna"]) == ["Иван Петров"]  # the contact, not Semyon
    assert await names(db, "+79140005566", actors["anna"]) == []
    assert await names(db, "+79140005566", actors["boris"]) == ["Семён Кузнецов"]


async def test_an_employee_finds_a_client_whose_lead_is_theirs(db, clock, book):
    actors, _ = book
    async with db.unit_of_work() as s:
        unowned = await client(s, clock, name="Захар Лидов", phones=("+79170001234",))
        now = clock.now()
        s.add(
            Lead(
                client_id=unowned.id,
                status=LeadStatus.NEW,
                source="form:site",
                assignee_id=actors["boris"].id,
                extra={},
                created_at=now,
                updated_at=now,
            )
        )
    assert await names(db, "лидов", actors["boris"]) == ["Захар Лидов"]
    assert await names(db, "ли", actors["boris"]) == ["Захар Лидов"]  # a short word too
    assert await names(db, "лидов", actors["anna"]) == []


async def test_an_employee_finds_a_client_whose_deal_is_theirs(db, clock, book):
    actors, _ = book
    async with db.unit_of_work() as s:
        unowned = await client(s, clock, name="Дарья Сделкина", phones=("+79170004321",))
        pipeline_id = await pipeline.default_pipeline_id(s)
        now = clock.now()
        s.add(
            Deal(
                client_id=unowned.id,
                pipeline_id=pipeline_id,
                stage_id=await pipeline.working_stage_id(s, pipeline_id),
                title="Окна",
                owner_id=actors["anna"].id,
                stage_changed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    assert await names(db, "сделкина", actors["anna"]) == ["Дарья Сделкина"]
    assert await names(db, "сделкина", actors["boris"]) == []


async def test_a_manager_finds_the_offices_clients_but_not_another_offices(db, book):
    actors, _ = book
    assert sorted(await names(db, "ов", actors["vera"])) == [
        "Иван Петров",
        "Ольга Иванова",
        "Семён Кузнецов",
    ]
    assert await names(db, "+79150007788", actors["vera"]) == []


async def test_an_admin_finds_everyone(db, book):
    actors, _ = book
    assert len(await names(db, "ов", actors["admin"])) == 4
    assert await names(db, "0007788", actors["admin"]) == ["Пётр Иванов"]


@pytest.mark.parametrize("who", ["admin", "vera", "anna"])
async def test_a_merged_client_is_not_found(db, book, who):
    actors, ids = book
    async with db.unit_of_work() as s:
        merged = await s.get(Client, ids["olga"])
        merged.merged_into_id = ids["ivan"]
    assert await names(db, "ольга", actors[who]) == []
    assert await names(db, "иванова", actors[who]) == []


async def test_results_are_bounded(db, clock, book):
    actors, _ = book
    async with db.unit_of_work() as s:
        for n in range(30):
            await client(s, clock, name=f"Клиент {n}")
    assert len(await names(db, "клиент", actors["admin"], limit=20)) == 20
    assert len(await names(db, "клиент", actors["admin"], limit=10**6)) == 30


async def test_a_contacts_identities_find_the_client(db, book):
    actors, ids = book
    async with db.unit_of_work() as s:
        found = await by_identities(s, [(Channel.PHONE, "+79120001122")], by=actors["anna"])
        hidden = await by_identities(s, [(Channel.PHONE, "+79140005566")], by=actors["anna"])
    assert [f.client_id for f in found] == [ids["ivan"]]
    assert hidden == []


async def test_search_text_follows_a_name_given_later(db, clock, book):
    """A client first seen without a name becomes findable by the name a later lead gives."""
    actors, _ = book
    async with db.unit_of_work() as s:
        first = await matching.resolve_or_create(
            s, [(Channel.PHONE, "+79160001111")], name=None, now=clock.now()
        )
        assert first.created
        await matching.resolve_or_create(
            s, [(Channel.PHONE, "+79160001111")], name="Ёлкина Дарья", now=clock.now()
        )
    assert await names(db, "елкина", actors["admin"]) == ["Ёлкина Дарья"]


def test_search_text_is_folded_names_company_and_contacts():
    assert matching.search_text_of("Пётр  ИВАНОВ", "ООО Ёж", ["Анна", None]) == (
        "петр иванов ооо еж анна"
    )
    assert matching.search_text_of(None) is None
    assert len(matching.search_text_of("я" * 5000) or "") == 1000


def test_search_text_fits_the_owner_index_in_bytes_too():
    """PostgreSQL's owner index carries the search text (migration 0015), and a B-tree entry
    must stay under about 2.7 kB: Russian text keeps its 1,000 characters, four-byte
    characters are cut at 2,000 bytes, never inside a character."""
    assert matching.search_text_of("ж" * 1000) == "ж" * 1000
    emoji = matching.search_text_of("х😀" * 1000) or ""
    assert len(emoji.encode()) <= matching.SEARCH_TEXT_BYTES
    assert emoji == ("х😀" * 1000)[: len(emoji)] and len(emoji) > 300


async def test_a_client_named_in_four_byte_characters_is_stored_and_found(db, clock, book):
    """Names, a company and contacts in emoji (hostile or not) break neither the owner index
    nor a name given later (cut in SQL there), and the owner still finds the client."""
    actors, _ = book
    huge = "Ёж" + factories.four_byte_text(298, 0)
    emoji_contacts = tuple(factories.four_byte_text(300, n) for n in (1, 2, 3))
    async with db.unit_of_work() as s:
        anna = await s.get(Employee, actors["anna"].id)
        await client(
            s,
            clock,
            name=huge,
            company=factories.four_byte_text(300, 4),
            contacts=emoji_contacts,
            owner=anna,
        )
        found = await matching.resolve_or_create(
            s, [(Channel.PHONE, "+79160002222")], name=None, now=clock.now()
        )
        row = await s.get(Client, found.id)
        row.owner_id = anna.id
        row.search_text = matching.search_text_of(None, None, emoji_contacts)
    async with db.unit_of_work() as s:  # a lead names the client: the name goes first
        await matching.resolve_or_create(
            s,
            [(Channel.PHONE, "+79160002222")],
            name="Зоя " + factories.four_byte_text(290, 5),
            now=clock.now(),
        )
    async with db.unit_of_work() as s:
        texts = [c.search_text for c in (await s.execute(sa.select(Client))).scalars()]
    assert all(len((t or "").encode()) <= matching.SEARCH_TEXT_BYTES for t in texts)
    assert await names(db, "ёж", actors["anna"]) == [huge]
    assert [n[:4] for n in await names(db, "зоя", actors["anna"]) if n] == ["Зоя "]


async def test_an_employee_finds_by_short_words(db, book):
    """Words shorter than a trigram are looked for too (no index helps them), among the
    employee's own clients only."""
    actors, _ = book
    assert await names(db, "ив", actors["anna"]) == ["Ольга Иванова", "Иван Петров"]
    assert await names(db, "ив", actors["boris"]) == []


@pytest.mark.parametrize(
    "text, kind",
    [
        ("+7 912 000-11-22", Kind.PHONE),
        ("+7\u00a0912\u00a0000\u201111\u201122", Kind.PHONE),
        ("0011122", Kind.DIGITS),
        ("1122", Kind.WORDS),  # too few digits to be a phone's end: maybe a name
        ("a@b.ru", Kind.EMAIL),
        ("не@почта", Kind.WORDS),
        ("  \n ", Kind.NOTHING),
        ("\x00", Kind.NOTHING),
    ],
)
def test_what_the_text_is_decides_how_it_is_matched(text, kind):
    assert classify(text).kind is kind


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300) | st.text(alphabet="+0123456789 ()-", max_size=40))
async def test_any_text_is_answered_without_error(db, book, text):
    actors, _ = book
    for who in ("anna", "vera", "admin"):
        assert len(await names(db, text, actors[who])) <= 10


@pytest.mark.parametrize("text", ["o'brien", "100%_", "back\\slash", "/"])
async def test_quotes_backslashes_and_wildcards_are_plain_characters(db, clock, book, text):
    actors, _ = book
    async with db.unit_of_work() as s:
        await client(s, clock, name="O'Brien 100%_ back\\slash /x")
        await client(s, clock, name="OXBrien 1000 backslash x")  # what a wildcard would match
    assert await names(db, text, actors["admin"]) == ["O'Brien 100%_ back\\slash /x"]


@pytest.mark.parametrize("who", ["admin", "vera", "anna"])
async def test_ranking_treats_wildcards_as_plain_characters(db, clock, book, who):
    """The ranking (starts with the first word, a word starts with it, the rest) ranks by the
    word as typed: "5%" is not "5 anything", "a_b" is not "axb"."""
    actors, _ = book
    anna = await _employee_row(db, actors["anna"].id)
    async with db.unit_of_work() as s:
        # Oldest first: recency alone would list them the other way round.
        for name in ("5%_x Первый", "Второй 5%_x", "Третий z5%_x", "5a_x 5%_xx Четвёртый"):
            await client(s, clock, name=name, owner=anna, office_id=anna.office_id)
        await client(s, clock, name="5abx Пятый", owner=anna, office_id=anna.office_id)
    assert await names(db, "5%_x", actors[who]) == [
        "5%_x Первый",  # starts with it ("5a_x" would, were "%" and "_" wildcards)
        "5a_x 5%_xx Четвёртый",  # a word starts with it; newer first
        "Второй 5%_x",
        "Третий z5%_x",  # only contains it
    ]


async def _employee_row(db, employee_id: int) -> Employee:
    async with db.unit_of_work() as s:
        return await s.get(Employee, employee_id)


async def test_a_found_client_shows_their_first_phone_or_else_their_whatsapp(db, clock, book):
    actors, _ = book
    async with db.unit_of_work() as s:
        both = await client(s, clock, name="Два Номера", phones=("+79160000001", "+79160000002"))
        only = await client(s, clock, name="Только Ватсап")
        now = clock.now()
        for client_id, address in ((both.id, "+79160000009"), (only.id, "+79160000003")):
            s.add(
                ChannelIdentity(
                    client_id=client_id,
                    channel=Channel.WHATSAPP,
                    address=address,
                    created_at=now,
                    updated_at=now,
                )
            )
    async with db.unit_of_work() as s:
        for text in ("номера", "+79160000002"):  # ranked words, an identity
            (found,) = await search(s, text, by=actors["admin"])
            assert found.phone == "+79160000001", text
        (found,) = await search(s, "ватсап", by=actors["admin"])
        assert found.phone == "+79160000003"


async def test_a_huge_text_is_cut_not_refused(db, book):
    actors, _ = book
    assert await names(db, "иван " + "я" * 100_000, actors["anna"]) == []
    assert await names(db, "петров " * 10_000, actors["anna"]) == ["Иван Петров"]
