"""services.imports without the web: the dry run's verdicts and reasons, what applying
creates, updates or skips as chosen, and what undo removes, restores and keeps."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from models import Channel, ChannelIdentity, Client, ClientImport, ClientTag, Lead, Role
from services import imports
from services.actors import Actor
from services.errors import InvalidInput
from services.imports import applying, reading
from tests import factories

CSV = """ФИО;Телефон;Почта;Компания;Метки
Иван Петров;8 (912) 000-11-22;ivan@example.ru;ООО Окна;vip, опт
Ольга;+7 912 555 00 00;;;
Кто-то;12345;;;
Двойник;89120001122;;;
;;anna@example.ru;;
;;;;
Фирма без людей;;;ООО Двери;
""".encode("utf-8-sig")


@pytest.fixture
async def admin(session, clock):
    return await factories.employee(session, clock, name="Админ", role=Role.ADMIN, office="Центр")


async def _client_with_phone(session, phone: str, name: str) -> int:
    client = Client(name=name, search_text=name.lower())
    session.add(client)
    await session.flush()
    session.add(ChannelIdentity(client_id=client.id, channel=Channel.PHONE, address=phone))
    await session.flush()
    return client.id


async def _imported(session, company, by, data=CSV, name="clients.csv", matches="skip"):
    import_id = await imports.upload(session, data, name, by=by, now=company.clock.now())
    found = await session.get(ClientImport, import_id)
    counts = await imports.preview(
        session,
        import_id,
        mapping=found.mapping,
        matches=matches,
        owner_id=None,
        by=by,
        company=company,
    )
    return import_id, counts


def test_russian_and_english_headers_are_recognised():
    assert reading.guess(["ФИО", "Телефон", "Эл. почта", "Компания", "Комментарий"]) == {
        "0": "name",
        "1": "phone",
        "2": "email",
        "3": "company",
    }
    assert reading.guess(["Full name", "Mobile", "E-mail", "Organization", "Tags"]) == {
        "0": "name",
        "1": "phone",
        "2": "email",
        "3": "company",
        "4": "tag",
    }


async def test_the_dry_run_judges_each_row_and_writes_no_client(session, clock, company, admin):
    olga = await _client_with_phone(session, "+79125550000", "Ольга Старая")
    clients_before = await factories.count(session, Client)
    import_id, counts = await _imported(session, company, Actor.of(admin))
    assert counts == {"new": 3, "matched": 1, "invalid": 2}
    assert await factories.count(session, Client) == clients_before
    view = await imports.view(session, import_id, by=Actor.of(admin))
    reasons = {line: reason for line, outcome, reason, _cells in view.samples if reason}
    assert reasons == {4: "bad_phone:12345", 5: "repeat:2"}
    matched = [line for line, outcome, _r, _c in view.samples if outcome == "matched"]
    assert matched == [3] and olga


async def test_applying_creates_the_new_skips_the_matched_and_undo_removes_what_is_unused(
    db, clock, company
):
    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN, office="Центр")
        olga = await _client_with_phone(s, "+79125550000", "Ольга Старая")
        by = Actor.of(admin)
        import_id, _counts = await _imported(s, company, by)
        await imports.start(s, import_id, by=by, now=clock.now())
    await imports.run(db, import_id, company)
    async with db.unit_of_work() as s:
        found = await s.get(ClientImport, import_id)
        assert (found.status, found.counts) == (
            "done",
            {"created": 3, "skipped": 1, "invalid": 2},
        )
        ivan = await s.scalar(sa.select(Client).where(Client.name == "Иван Петров"))
        assert (ivan.company, ivan.owner_id, ivan.office_id) == (
            "ООО Окна",
            admin.id,
            admin.office_id,
        )
        addresses = set(
            (
                await s.execute(
                    sa.select(ChannelIdentity.channel, ChannelIdentity.address).where(
                        ChannelIdentity.client_id == ivan.id
                    )
                )
            ).all()
        )
        assert addresses == {(Channel.PHONE, "+79120001122"), (Channel.EMAIL, "ivan@example.ru")}
        tags = set(await s.scalars(sa.select(ClientTag.tag).where(ClientTag.client_id == ivan.id)))
        assert tags == {"vip", "опт"}
        firm = await s.scalar(sa.select(Client).where(Client.company == "ООО Двери"))
        assert firm.name == "Фирма без людей"
        assert (await s.get(Client, olga)).name == "Ольга Старая"  # matched: skipped
        s.add(Lead(client_id=ivan.id, source="form:site"))  # something done with Иван since
    async with db.unit_of_work() as s:
        undone = await imports.undo(s, import_id, by=by, now=clock.now())
    assert undone == imports.Undone(removed=2, kept=1, restored=0)
    async with db.unit_of_work() as s:
        names = set(await s.scalars(sa.select(Client.name)))
        assert names == {"Иван Петров", "Ольга Старая"}


async def test_update_mode_overwrites_matched_clients_and_undo_gives_their_names_back(
    db, clock, company
):
    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        olga = await _client_with_phone(s, "+79125550000", "Ольга Старая")
        by = Actor.of(admin)
        import_id, _counts = await _imported(s, company, by, matches="update")
        await imports.start(s, import_id, by=by, now=clock.now())
    await imports.run(db, import_id, company)
    async with db.unit_of_work() as s:
        assert (await s.get(Client, olga)).name == "Ольга"
    async with db.unit_of_work() as s:
        undone = await imports.undo(s, import_id, by=by, now=clock.now())
    assert undone.restored == 1
    async with db.unit_of_work() as s:
        assert (await s.get(Client, olga)).name == "Ольга Старая"


async def test_an_xlsx_with_numbers_for_phones_reads_like_the_csv(session, clock, company, admin):
    book = Workbook()
    sheet = book.active
    sheet.append(["Имя", "Телефон"])
    sheet.append(["Пётр", 79120001122])  # a phone typed into a number cell
    sheet.append(["Анна Смирнова", "+7 912 555-00-00"])
    out = io.BytesIO()
    book.save(out)
    _import_id, counts = await _imported(
        session, company, Actor.of(admin), data=out.getvalue(), name="list.xlsx"
    )
    assert counts == {"new": 2}
    with pytest.raises(InvalidInput):
        await imports.upload(
            session, b"\x00\x01garbage", "x.csv", by=Actor.of(admin), now=clock.now()
        )
    with pytest.raises(InvalidInput):
        await imports.upload(
            session, b"PK\x03\x04broken", "x.xlsx", by=Actor.of(admin), now=clock.now()
        )
    with pytest.raises(InvalidInput):
        await imports.upload(
            session, "ФИО\n".encode(), "x.csv", by=Actor.of(admin), now=clock.now()
        )


async def test_a_manager_s_import_leaves_other_offices_clients_and_names_alone(db, clock, company):
    data = "Компания;Телефон\nООО Чужие;+7 912 555 00 00\nООО Свои;+7 912 777 00 00\n".encode()
    async with db.unit_of_work() as s:
        manager = await factories.employee(
            s, clock, name="Мария", role=Role.MANAGER, office="Центр"
        )
        other = await factories.employee(s, clock, name="Ольга", office="Север")
        theirs = await _client_with_phone(s, "+79125550000", "Ольга Старая")
        (await s.get(Client, theirs)).owner_id = other.id
        ours = await _client_with_phone(s, "+79127770000", "Иван Свой")
        (await s.get(Client, ours)).office_id = manager.office_id
        by = Actor.of(manager)
        import_id, counts = await _imported(s, company, by, data=data, matches="update")
        assert counts == {"invalid": 1, "matched": 1}  # another office's: not to be touched
        await imports.start(s, import_id, by=by, now=clock.now())
    await imports.run(db, import_id, company)
    async with db.unit_of_work() as s:
        assert (await s.get(Client, theirs)).company is None
        mine = await s.get(Client, ours)
        assert (mine.name, mine.company) == ("Иван Свой", "ООО Свои")  # a company: not a name


async def test_undo_keeps_created_clients_someone_worked_on_since(db, clock, company):
    from models import Note

    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        by = Actor.of(admin)
        import_id, _counts = await _imported(s, company, by)
        await imports.start(s, import_id, by=by, now=clock.now())
    await imports.run(db, import_id, company)
    async with db.unit_of_work() as s:
        ivan = await s.scalar(sa.select(Client).where(Client.name == "Иван Петров"))
        olga = await s.scalar(sa.select(Client).where(Client.name == "Ольга"))
        s.add(Note(client_id=ivan.id, author_id=admin.id, text="Перезвонить в пятницу"))
        clock.advance(minutes=5)
        olga.name, olga.updated_at = "Ольга Иванова", clock.now()  # renamed since
    async with db.unit_of_work() as s:
        undone = await imports.undo(s, import_id, by=by, now=clock.now())
    assert (undone.removed, undone.kept) == (2, 2)
    async with db.unit_of_work() as s:
        assert set(await s.scalars(sa.select(Client.name))) == {"Иван Петров", "Ольга Иванова"}


@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.text(alphabet=';,"\t\n\r\x00ab1+', max_size=3000).map(str.encode),
        st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b),
    ),
    name=st.sampled_from(["x.csv", "x.xlsx", "x"]),
)
@settings(max_examples=60, deadline=None, derandomize=True)
def test_any_file_is_read_or_refused_with_a_reason(data: bytes, name: str) -> None:
    try:
        table = reading.read(data, name)
    except InvalidInput as exc:
        assert exc.key.startswith("import.")
    else:
        assert table.headers and all("\x00" not in c for row in table.rows for c in row)


def test_a_workbook_that_unpacks_to_gigabytes_is_refused() -> None:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"a" * (reading.MAX_UNPACKED + 1))
    with pytest.raises(InvalidInput):
        reading.read(out.getvalue(), "bomb.xlsx")


async def test_a_run_that_fails_stops_as_failed_and_goes_on_when_started_again(
    db, clock, company, monkeypatch
):
    async with db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        by = Actor.of(admin)
        import_id, _counts = await _imported(s, company, by)
        await imports.start(s, import_id, by=by, now=clock.now())
    real = applying._apply

    async def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(applying, "_apply", broken)
    await imports.run(db, import_id, company)
    async with db.unit_of_work() as s:
        found = await s.get(ClientImport, import_id)
        assert (found.status, found.error) == ("failed", "RuntimeError: the disk is full")
        await imports.start(s, import_id, by=by, now=clock.now())
    monkeypatch.setattr(applying, "_apply", real)
    await imports.run(db, import_id, company)
    async with db.unit_of_work() as s:
        found = await s.get(ClientImport, import_id)
        assert (found.status, found.counts["created"]) == ("done", 4)
