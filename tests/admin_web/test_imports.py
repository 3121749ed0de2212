"""Importing clients through the admin web, as a browser sends it: upload, the mapping
guessed from the headers, the dry run with reasons, progress, the result, undo; and the
refusals (no session, no token, no file, a file that is not a list, too big a file)."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import sqlalchemy as sa

from models import Client, Role
from services import admins
from tests import factories
from tests.admin_web.forms import page_token, sign_in
from tests.services.test_imports import CSV


async def _admin(container, clock, *, role=Role.ADMIN, login="admin", office=None):
    async with container.db.unit_of_work() as s:
        who = await factories.employee(s, clock, name=login.title(), role=role, office=office)
        await admins.give_login(
            s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
        )
    return who


async def _upload(web, data: bytes, name: str, *, token: str | None = None):
    form = aiohttp.FormData()
    form.add_field("csrf_token", token or await page_token(web, "/admin/imports"))
    form.add_field("file", data, filename=name, content_type="text/csv")
    return await web.post("/admin/imports", data=form, allow_redirects=False)


def _fields(page: str, form_id: str) -> list[tuple[str, str]]:
    """What a browser would send for the form: hidden fields, selected options, checked radios."""
    form = page[page.index(f'id="{form_id}"') :]
    form = form[: form.index("</form>")]
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    for name, options in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields.append((name, chosen.group(1) if chosen else ""))
    fields += re.findall(r'<input type="radio" name="(\w+)" value="(\w+)" checked', form)
    return fields


async def _until_done(web, path: str) -> str:
    for _ in range(300):
        page = await (await web.get(path)).text()
        if 'data-status="running"' not in page:
            return page
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


async def test_a_list_is_uploaded_checked_imported_and_undone(web, container, clock):
    await _admin(container, clock)
    await sign_in(web, "admin", "good horse 1")
    uploaded = await _upload(web, CSV, "клиенты.csv")
    assert uploaded.status == 302
    path = uploaded.headers["Location"]
    page = await (await web.get(path)).text()
    assert 'data-status="uploaded"' in page and "Строк: 6" in page
    mapping = _fields(page, "mapping")
    assert ("col_0", "name") in mapping and ("col_1", "phone") in mapping
    assert ("col_2", "email") in mapping and ("col_3", "company") in mapping
    checked = await web.post(f"{path}/preview", data=mapping, allow_redirects=False)
    assert checked.status == 302
    page = await (await web.get(path)).text()
    assert re.search(r'data-outcome="new">Новые: <strong>4</strong>', page)
    assert re.search(r'data-outcome="invalid">С ошибкой: <strong>2</strong>', page)
    assert "телефон не разобран: 12345" in page
    assert "тот же телефон или почта, что в строке 2" in page
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Client) == 0  # the check wrote no client

    token = await page_token(web, path)
    started = await web.post(f"{path}/apply", data={"csrf_token": token}, allow_redirects=False)
    assert started.status == 302
    page = await _until_done(web, path)
    assert 'data-status="done"' in page
    assert re.search(r'data-outcome="created">Заведены: <strong>4</strong>', page)
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Client) == 4
    token = await page_token(web, path)
    await web.post(f"{path}/undo", data={"csrf_token": token})
    page = await (await web.get(path)).text()
    assert 'data-status="undone"' in page
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, Client) == 0


async def test_refusals_no_session_no_token_no_file_bad_file_too_big(
    web, aiohttp_client, container, clock
):
    await _admin(container, clock)
    stranger = await aiohttp_client(web.server.app)
    form = aiohttp.FormData()
    form.add_field("file", CSV, filename="x.csv")
    assert (await stranger.post("/admin/imports", data=form, allow_redirects=False)).status in (
        302,
        403,
    )
    await sign_in(web, "admin", "good horse 1")
    forged = aiohttp.FormData()
    forged.add_field("file", CSV, filename="x.csv")
    assert (await web.post("/admin/imports", data=forged)).status == 403
    token = await page_token(web, "/admin/imports")
    nothing = aiohttp.FormData()
    nothing.add_field("csrf_token", token)
    response = await web.post("/admin/imports", data=nothing)
    assert response.status == 422 and "Выберите файл" in await response.text()
    response = await _upload(web, b"\x00\x01\x02 not a table", "x.csv")
    assert response.status == 422 and "не читается" in await response.text()
    response = await _upload(web, b"PK\x03\x04 not a workbook", "x.xlsx")
    assert response.status == 422 and "не читается" in await response.text()
    big = "ФИО;Телефон\n".encode() + b"x;1\n" * (1_200_000)
    response = await _upload(web, big, "big.csv")
    assert response.status == 413 and "больше 4 МБ" in await response.text()
    async with container.db.unit_of_work() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


async def test_a_manager_sees_their_own_imports_only(web, aiohttp_client, container, clock):
    await _admin(container, clock)
    await _admin(container, clock, role=Role.MANAGER, login="petr", office="Центр")
    await sign_in(web, "admin", "good horse 1")
    path = (await _upload(web, CSV, "x.csv")).headers["Location"]
    manager = await aiohttp_client(web.server.app)
    await sign_in(manager, "petr", "good horse 1")
    assert (await manager.get(path)).status == 404
    assert path not in await (await manager.get("/admin/imports")).text()


async def test_a_list_of_companies_and_their_people_is_checked_and_imported(web, container, clock):
    from tests.services.test_imports_contacts import FIRMS

    await _admin(container, clock)
    await sign_in(web, "admin", "good horse 1")
    path = (await _upload(web, FIRMS, "фирмы.csv")).headers["Location"]
    page = await (await web.get(path)).text()
    assert "Контактное лицо (клиент — компания)" in page
    mapping = _fields(page, "mapping")
    assert ("col_1", "contact") in mapping and ("col_2", "position") in mapping
    await web.post(f"{path}/preview", data=mapping, allow_redirects=False)
    page = await (await web.get(path)).text()
    assert re.search(r'data-outcome="new">Новые: <strong>3</strong>', page)
    assert re.search(r'data-outcome="joined">Контакты компании выше: <strong>2</strong>', page)
    assert "контакт компании из строки 2" in page
    token = await page_token(web, path)
    await web.post(f"{path}/apply", data={"csrf_token": token}, allow_redirects=False)
    page = await _until_done(web, path)
    assert re.search(r'data-outcome="joined">Контакты компании выше: <strong>2</strong>', page)
    async with container.db.unit_of_work() as s:
        firm = await s.scalar(sa.select(Client.id).where(Client.name == "ООО Ромашка"))
    card = await (await web.get(f"/admin/clients/{firm}")).text()
    assert "Мария Сидорова" in card and "Пётр" in card
