"""Company settings in the admin web (admins only): the auto-reply, the ticket categories,
the approved WhatsApp templates and the escalation thresholds, over the environment's; in
force in this process at once and in every other within seconds; refusals save nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import sqlalchemy as sa

from models import AuditEntry, CompanySetting, Role
from services import admins, company_settings
from services.conversations import channels
from tests import factories
from tests.admin_web.forms import page_token, sign_in
from tests.chat import Chat

FORM = {
    "auto_reply": "Мы на связи с 9 до 18, ответим утром",
    "ticket_categories": "Визы\nЗапись\n  Оплата  \n",
    "whatsapp_templates": "visa_ready\nappointment_reminder:en",
    "task_minutes": "30",
    "response_minutes": "10",
    "deal_days": "14",
    "ticket_minutes": "240",
}


@pytest.fixture(autouse=True)
def _whatsapp_rules_kept():
    """The channel registry is the process's: what a test saves there goes with it."""
    before = channels.rules_of("whatsapp")
    yield
    channels.register(before)


async def _setup(container, clock):
    async with container.db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        boss = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Центр")
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        for who, login in ((admin, "admin"), (boss, "petr")):
            await admins.give_login(
                s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
            )
        return admin.id, anna


async def _save(web, **changes: str):
    token = await page_token(web, "/admin/settings/company")
    data = {"csrf_token": token, **FORM, **changes}
    return await web.post("/admin/settings/company", data=data, allow_redirects=False)


async def test_settings_are_saved_and_in_force_here_and_elsewhere(web, container, clock, fake_tg):
    admin_id, anna = await _setup(container, clock)
    await sign_in(web, "admin", "good horse 1")
    page = await (await web.get("/admin/settings/company")).text()
    assert "Документы\nОплата" in page  # the environment's, before any change
    saved = await _save(web)
    assert saved.status == 302
    page = await (await web.get(saved.headers["Location"])).text()
    assert "действует везде" in page and "Визы\nЗапись\nОплата" in page
    company = container.company
    assert company.ticket_categories == ("Визы", "Запись", "Оплата")
    assert company.auto_reply == "Мы на связи с 9 до 18, ответим утром"
    assert (company.escalations.task_minutes, company.escalations.deal_days) == (30, 14)
    assert channels.rules_of("whatsapp").templates == ("visa_ready", "appointment_reminder:en")
    # The bot offers the new categories.
    chat = Chat(container, fake_tg, anna)
    shown = await chat.say("/ticket")
    labels = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:3] == ["Визы", "Запись", "Оплата"]
    # Another process (its own Company, the environment's values) takes them on its refresh.
    elsewhere = replace(company, ticket_categories=("Документы",), auto_reply=None)
    channels.register(replace(channels.rules_of("whatsapp"), templates=()))
    keeping = asyncio.ensure_future(
        company_settings.keep_fresh(container.db, elsewhere, every=0.05)
    )
    try:
        for _ in range(100):
            if elsewhere.ticket_categories == ("Визы", "Запись", "Оплата"):
                break
            await asyncio.sleep(0.05)
    finally:
        keeping.cancel()
    assert elsewhere.auto_reply == "Мы на связи с 9 до 18, ответим утром"
    assert channels.rules_of("whatsapp").templates == ("visa_ready", "appointment_reminder:en")
    async with container.db.unit_of_work() as s:
        [entry] = (
            (await s.execute(sa.select(AuditEntry).where(AuditEntry.action == "settings.changed")))
            .scalars()
            .all()
        )
    assert entry.actor_id == admin_id
    assert entry.data["changes"]["ticket_categories"][1] == ["Визы", "Запись", "Оплата"]
    # Saving the same again changes nothing and logs nothing.
    assert (await _save(web)).status == 302
    async with container.db.unit_of_work() as s:
        count = sa.select(sa.func.count()).where(AuditEntry.action == "settings.changed")
        assert (await s.execute(count)).scalar() == 1


async def test_refusals_save_nothing(web, container, clock):
    await _setup(container, clock)
    await sign_in(web, "admin", "good horse 1")
    for changes, says in (
        ({"whatsapp_templates": "Visa Ready!"}, "не имя шаблона"),
        ({"ticket_categories": "  \n "}, "Категорий от 1 до 30"),
        ({"ticket_categories": "Визы\nвизы"}, "без повторов"),
        ({"ticket_categories": "\n".join(f"К{i}" for i in range(31))}, "Категорий от 1 до 30"),
        ({"task_minutes": "0"}, "от 1 до 10080"),
        ({"deal_days": "366"}, "от 1 до 365"),
        ({"response_minutes": "десять"}, "response_minutes"),
        ({"auto_reply": "я" * 1001}, "длиннее 1000"),
    ):
        response = await _save(web, **changes)
        assert response.status == 422 and says in await response.text(), changes
    assert (
        await web.post("/admin/settings/company", data=FORM, allow_redirects=False)
    ).status == 403
    await web.post("/admin/logout", data={"csrf_token": await page_token(web, "/admin/password")})
    await sign_in(web, "petr", "good horse 1")
    assert (await web.get("/admin/settings/company")).status == 404
    token = await page_token(web, "/admin/password")
    response = await web.post("/admin/settings/company", data={"csrf_token": token, **FORM})
    assert response.status == 404
    async with container.db.unit_of_work() as s:
        assert (await s.execute(sa.select(CompanySetting))).scalars().all() == []
    assert container.company.ticket_categories[0] == "Документы"


async def test_a_running_process_takes_settings_saved_elsewhere(container, monkeypatch):
    """`crm run` (app.serve, any roles) keeps its settings fresh: a change saved by another
    process is in force here after the next refresh."""
    from app import serve
    from models import CompanySetting

    monkeypatch.setattr(company_settings, "REFRESH", 0.05)
    stop = asyncio.Event()
    running = asyncio.ensure_future(serve(container, set(), stop))
    try:
        async with container.db.unit_of_work() as s:  # as the admin web of another process
            s.add(
                CompanySetting(
                    key="ticket_categories",
                    value={"value": ["Визы", "Оплата"]},
                    updated_at=container.company.clock.now(),
                )
            )
        for _ in range(100):
            if container.company.ticket_categories == ("Визы", "Оплата"):
                break
            await asyncio.sleep(0.05)
        assert container.company.ticket_categories == ("Визы", "Оплата")
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
