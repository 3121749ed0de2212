"""Importing companies with their contact persons: a column mapped as the contact person makes
the rows of one company one client, each row's person one of its contacts (with position);
phones and e-mails of all its rows go to it; undo removes what the import added."""

from __future__ import annotations

import sqlalchemy as sa

from models import Channel, ChannelIdentity, Client, ClientImport, ContactPerson, Role
from services import imports
from services.actors import Actor
from services.imports import applying, reading
from tests import factories
from tests.services.test_imports import _client_with_phone, _imported

FIRMS = """Компания;Контактное лицо;Должность;Телефон;Почта;Метки
ООО Ромашка;Иван Петров;Директор;+7 912 100-00-01;ivan@romashka.ru;опт
ООО Ромашка;Мария Сидорова;Бухгалтер;+7 912 100-00-02;;
ооо  ромашка;Пётр;Снабженец;+7 912 100-00-01;;
ООО Лютик;Анна;;+7 912 200-00-01;;
;Частное Лицо;;+7 912 300-00-01;;
ООО Другая;Олег;;+7 912 100-00-02;;
""".encode()


async def _contacts(s, client_id: int) -> list[tuple[str, str | None]]:
    stmt = (
        sa.select(ContactPerson.name, ContactPerson.position)
        .where(ContactPerson.client_id == client_id)
        .order_by(ContactPerson.id)
    )
    return [tuple(row) for row in (await s.execute(stmt)).all()]


async def _run(db, company, by, data, matches="skip"):
    async with db.unit_of_work() as s:
        import_id, counts = await _imported(s, company, by, data=data, matches=matches)
        await imports.start(s, import_id, by=by, now=company.clock.now())
    await imports.run(db, import_id, company)
    return import_id, counts


def test_contact_person_and_position_headers_are_recognised():
    assert reading.guess(["Компания", "Контактное лицо", "Должность", "Телефон"]) == {
        "0": "company",
        "1": "contact",
        "2": "position",
        "3": "phone",
    }
    assert reading.guess(["Organization", "Contact person", "Job title"]) == {
        "0": "company",
        "1": "contact",
        "2": "position",
    }


async def test_one_company_s_rows_make_one_client_with_its_contacts(db, clock, company):
    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
    by = Actor.of(admin)
    import_id, counts = await _run(db, company, by, FIRMS)
    assert counts == {"new": 3, "joined": 2, "invalid": 1}
    async with db.unit_of_work() as s:
        view = await imports.view(s, import_id, by=by)
        reasons = {line: reason for line, _o, reason, _c in view.samples if reason}
        assert reasons == {3: "joins:2", 4: "joins:2", 7: "repeat:3"}
        assert view.counts == {"created": 3, "joined": 2, "invalid": 1}
        firm = await s.scalar(sa.select(Client).where(Client.name == "ООО Ромашка"))
        assert firm.company == "ООО Ромашка"
        assert await _contacts(s, firm.id) == [
            ("Иван Петров", "Директор"),
            ("Мария Сидорова", "Бухгалтер"),
            ("Пётр", "Снабженец"),
        ]
        addresses = set(
            await s.scalars(
                sa.select(ChannelIdentity.address).where(ChannelIdentity.client_id == firm.id)
            )
        )
        assert addresses == {"+79121000001", "+79121000002", "ivan@romashka.ru"}
        lutik = await s.scalar(sa.select(Client).where(Client.name == "ООО Лютик"))
        assert await _contacts(s, lutik.id) == [("Анна", None)]
        person = await s.scalar(sa.select(Client).where(Client.name == "Частное Лицо"))
        assert await _contacts(s, person.id) == []  # a person of their own, not their contact
    async with db.unit_of_work() as s:
        undone = await imports.undo(s, import_id, by=by, now=clock.now())
    assert (undone.removed, undone.kept) == (3, 0)
    async with db.unit_of_work() as s:
        assert await factories.count(s, ContactPerson) == 0
        assert await factories.count(s, Client) == 0


async def test_contacts_added_to_a_client_already_there_go_on_undo(db, clock, company, monkeypatch):
    monkeypatch.setattr(applying, "BATCH", 2)  # the company's rows come in later batches
    data = """Компания;Контактное лицо;Должность;Телефон
ООО Ромашка;Иван Петров;Директор;+7 912 100-00-01
ООО Ромашка;Мария;Бухгалтер;+7 912 100-00-02
ООО Ромашка;Пётр;;
ООО Ромашка;Ольга;Юрист;
""".encode()
    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        known = await _client_with_phone(s, "+79121000001", "Ромашка")
        s.add(ContactPerson(client_id=known, name="иван петров"))  # there already
    by = Actor.of(admin)
    import_id, counts = await _run(db, company, by, data, matches="update")
    assert counts == {"matched": 1, "joined": 3}
    async with db.unit_of_work() as s:
        assert (await s.get(ClientImport, import_id)).counts == {"updated": 1, "joined": 3}
        assert (await s.get(Client, known)).company == "ООО Ромашка"
        assert await _contacts(s, known) == [
            ("иван петров", None),  # the same person: not added twice
            ("Мария", "Бухгалтер"),
            ("Пётр", None),
            ("Ольга", "Юрист"),
        ]
        phones = set(
            await s.scalars(
                sa.select(ChannelIdentity.address).where(
                    ChannelIdentity.client_id == known, ChannelIdentity.channel == Channel.PHONE
                )
            )
        )
        assert phones == {"+79121000001", "+79121000002"}
    async with db.unit_of_work() as s:
        undone = await imports.undo(s, import_id, by=by, now=clock.now())
    assert (undone.restored, undone.contacts) == (1, 3)
    async with db.unit_of_work() as s:
        client = await s.get(Client, known)
        assert (client.name, client.company) == ("Ромашка", None)
        assert await _contacts(s, known) == [("иван петров", None)]


async def test_a_skipped_company_takes_no_contacts_either(db, clock, company):
    data = (
        "Компания;Контактное лицо;Телефон\nООО Ромашка;Иван;+7 912 100-00-01\nООО Ромашка;Мария;\n"
    )
    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        known = await _client_with_phone(s, "+79121000001", "Ромашка")
    import_id, _counts = await _run(db, company, Actor.of(admin), data.encode())
    async with db.unit_of_work() as s:
        assert (await s.get(ClientImport, import_id)).counts == {"skipped": 2}
        assert await _contacts(s, known) == []
