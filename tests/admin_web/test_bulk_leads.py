"""Marking new leads non-target or spam from the admin web's lead list: ticked rows or all that
match, counted, applied in one transaction, shown with Undo; refusals (nothing ticked, no mark,
a reason of the other status, a forged form, a stale count, another office's leads)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from models import Employee, Lead, LeadStatus, Role
from services import admins, leads
from tests import factories
from tests.admin_web.forms import page_token, sign_in
from tests.chat import drain

_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


async def _setup(container, clock, leads_: int = 4) -> list[int]:
    """An admin, a manager of Север, Анна of Центр with four new leads: three from the promo
    form (a robot's), one from the site."""
    async with container.db.unit_of_work() as s:
        admin = await factories.employee(s, clock, name="Админ", role=Role.ADMIN)
        north = await factories.employee(s, clock, name="Пётр", role=Role.MANAGER, office="Север")
        for who, login in ((admin, "boss"), (north, "petr")):
            await admins.give_login(
                s, employee_id=who.id, login=login, password="good horse 1", now=clock.now()
            )
        await factories.employee(s, clock, name="Анна", office="Центр")
        found = []
        for i, source in enumerate((["form:promo"] * 3 + ["form:site"])[:leads_]):
            lead = leads.LeadIn(source=source, phone=f"+7912000330{i}", name=f"Бот {i}")
            made = await leads.register_incoming(s, lead, company=container.company)
            found.append(made.lead_id)
        return found


async def _statuses(container) -> list[LeadStatus]:
    async with container.db.unit_of_work() as s:
        return list(await s.scalars(sa.select(Lead.status).order_by(Lead.id)))


async def test_ticked_leads_are_counted_marked_and_made_new_again(web, container, clock):
    ids = await _setup(container, clock)
    await sign_in(web, "boss", "good horse 1")
    listing = await (await web.get("/admin/", params={"source": "form:promo"})).text()
    assert 'name="mark"' in listing and "Посчитать отметку" in listing
    assert 'value="spam:robot"' in listing and "Спам: Робот / автообзвон" in listing
    query = [("source", "form:promo"), ("mark", "spam:robot"), ("id", ids[0]), ("id", ids[1])]
    plan = await (await web.get("/admin/leads/reject", params=query)).text()
    assert "Отметить 2 лида как спам: Робот / автообзвон." in plan
    form = _HIDDEN.findall(plan)
    assert ("expected", "2") in form and ("id", str(ids[2])) not in form
    done = await web.post("/admin/leads/reject", data=form, allow_redirects=False)
    assert done.status == 302
    op_path = done.headers["Location"]
    page = await (await web.get(op_path)).text()
    assert "2 лида — спам (Робот / автообзвон)" in page and "Отменить" in page
    assert await _statuses(container) == [LeadStatus.SPAM] * 2 + [LeadStatus.NEW] * 2
    history = await (await web.get("/admin/bulk")).text()
    assert "2 лида → спам" in history
    token = await page_token(web, op_path)
    await web.post(f"{op_path}/undo", data={"csrf_token": token})
    assert await _statuses(container) == [LeadStatus.NEW] * 4


async def test_all_leads_matching_the_filter_are_marked(web, container, clock):
    await _setup(container, clock)
    await sign_in(web, "boss", "good horse 1")
    query = {"source": "form:promo", "scope": "all", "mark": "non_target:test"}
    plan = await (await web.get("/admin/leads/reject", params=query)).text()
    assert "Отметить 3 лида как нецелевые: Тестовая заявка." in plan
    done = await web.post("/admin/leads/reject", data=_HIDDEN.findall(plan))
    assert done.status == 200
    assert await _statuses(container) == [LeadStatus.NON_TARGET] * 3 + [LeadStatus.NEW]


async def test_refusals_mark_nothing(web, container, clock):
    ids = await _setup(container, clock)
    await sign_in(web, "boss", "good horse 1")
    nothing = await web.get("/admin/leads/reject", params={"mark": "spam:robot"})
    assert nothing.status == 422  # nothing ticked
    no_mark = await web.get("/admin/leads/reject", params={"scope": "all"})
    assert no_mark.status == 422 and "как отметить лиды" in await no_mark.text()
    for odd in ("spam:duplicate", "target:robot", "spam:", "spam:robot:x"):
        refused = await web.get("/admin/leads/reject", params={"scope": "all", "mark": odd})
        assert refused.status == 422, odd
    form = {"scope": "all", "mark": "spam:robot", "expected": "4"}
    assert (await web.post("/admin/leads/reject", data=form)).status == 403  # no token
    token = await page_token(web, "/admin/")
    stale = await web.post(
        "/admin/leads/reject", data={**form, "expected": "3", "csrf_token": token}
    )
    assert stale.status == 409
    assert await _statuses(container) == [LeadStatus.NEW] * 4
    await web.post("/admin/logout", data={"csrf_token": token})

    await sign_in(web, "petr", "good horse 1")  # a manager of Север: Анна's leads are not his
    mine = await web.get("/admin/leads/reject", params={"scope": "all", "mark": "spam:robot"})
    assert "Отмечать нечего" in await mine.text()
    token = await page_token(web, "/admin/")
    ticked = [("id", str(ids[0])), ("mark", "spam:robot"), ("expected", "1")]
    forged = await web.post("/admin/leads/reject", data=[*ticked, ("csrf_token", token)])
    assert forged.status == 409  # none of his to mark
    assert await _statuses(container) == [LeadStatus.NEW] * 4


async def test_telegram_shows_the_marked_cards_closed_and_tells_anna_once(
    web, container, clock, fake_tg
):
    await _setup(container, clock, leads_=0)
    for i in range(2):  # two robot's leads, each card delivered on its own
        async with container.db.unit_of_work() as s:
            lead = leads.LeadIn(source="form:promo", phone=f"+7912000440{i}", name=f"Бот {i}")
            await leads.register_incoming(s, lead, company=container.company)
        await drain(container)
    async with container.db.unit_of_work() as s:
        chat = await s.scalar(sa.select(Employee.telegram_id).where(Employee.name == "Анна"))

    def buttons() -> list[list[str]]:
        return [
            [
                b["callback_data"]
                for row in (m["reply_markup"] or {}).get("inline_keyboard", [])
                for b in row
                if b.get("callback_data", "").startswith("lead:take")
            ]
            for m in fake_tg.sent_messages(chat)
        ]

    assert [len(b) for b in buttons()] == [1, 1]  # each card can be taken
    await sign_in(web, "boss", "good horse 1")
    query = {"source": "form:promo", "scope": "all", "mark": "spam:robot"}
    plan = await (await web.get("/admin/leads/reject", params=query)).text()
    done = await web.post("/admin/leads/reject", data=_HIDDEN.findall(plan), allow_redirects=False)
    op_path = done.headers["Location"]
    await drain(container)
    texts = [m["text"] for m in fake_tg.sent_messages(chat)]
    assert [len(b) for b in buttons()] == [0, 0, 0]  # no Take on a spam lead
    assert all("Отмечен «спам»: Админ" in text for text in texts[:2]), texts[:2]
    assert texts[2] == "🚫 Админ отметил(а) ваши лиды как спам: 2 лида (массовое изменение №1)."
    token = await page_token(web, op_path)
    await web.post(f"{op_path}/undo", data={"csrf_token": token})
    await drain(container)
    assert [len(b) for b in buttons()] == [1, 1, 0, 0]
    assert fake_tg.sent_messages(chat)[-1]["text"] == (
        "↩️ Ваши лиды снова ждут ответа: 2 лида (отмена массового изменения №1, Админ)."
    )


async def test_anna_s_new_leads_go_to_boris_with_their_cards(web, container, clock, fake_tg):
    await _setup(container, clock, leads_=0)
    ids = []
    for i in range(2):  # Анна's, each card delivered on its own
        async with container.db.unit_of_work() as s:
            lead = leads.LeadIn(source="form:site", phone=f"+7912000770{i}", name=f"Клиент {i}")
            ids.append((await leads.register_incoming(s, lead, company=container.company)).lead_id)
        await drain(container)
    async with container.db.unit_of_work() as s:
        boris = await factories.employee(s, clock, name="Борис", office="Центр")
        anna = await s.scalar(sa.select(Employee).where(Employee.name == "Анна"))
        boris_id, boris_chat = boris.id, boris.telegram_id
        anna_id, anna_chat = anna.id, anna.telegram_id
    await sign_in(web, "boss", "good horse 1")
    listing = await (await web.get("/admin/", params={"assignee": anna_id})).text()
    assert 'formaction="/admin/leads/reassign"' in listing
    query = [("assignee", anna_id), ("scope", "all"), ("to", boris_id)]
    plan = await (await web.get("/admin/leads/reassign", params=query)).text()
    assert "Передать 2 лида → Борис." in plan
    await web.post("/admin/leads/reassign", data=_HIDDEN.findall(plan))
    await drain(container)

    buttons = " ".join(str(m["reply_markup"]) for m in fake_tg.sent_messages(boris_chat))
    for lead_id in ids:  # a card to take each (or a digest of both, each a button)
        assert f"lead:take:{lead_id}'" in buttons or f"lead:open:{lead_id}'" in buttons
    texts = [m["text"] for m in fake_tg.sent_messages(boris_chat)]
    assert "📦 Вам передано: 2 лида. Передал(а): Админ (массовое изменение №1)." in texts
    annas = fake_tg.sent_messages(anna_chat)
    assert [("Лид передан: Борис" in m["text"], m["reply_markup"]) for m in annas[:2]] == [
        (True, None),
        (True, None),
    ]  # her cards show who has them now, without buttons
    assert annas[2]["text"].startswith("📦 Из ваших передано сотруднику Борис: 2 лида.")


async def test_giving_leads_refusals_give_nothing(web, container, clock):
    ids = await _setup(container, clock)
    async with container.db.unit_of_work() as s:
        mute = await factories.employee(s, clock, name="Без Telegram", telegram=False)
        boris = await factories.employee(s, clock, name="Борис", office="Центр")
        mute_id, boris_id = mute.id, boris.id
    await sign_in(web, "boss", "good horse 1")
    form = {"scope": "all", "to": str(boris_id), "expected": "4"}
    assert (await web.post("/admin/leads/reassign", data=form)).status == 403  # no token
    token = await page_token(web, "/admin/")
    silent = {**form, "to": str(mute_id), "csrf_token": token}
    refused = await web.post("/admin/leads/reassign", data=silent)
    assert refused.status == 422 and "не увидит" in await refused.text()
    stale = await web.post(
        "/admin/leads/reassign", data={**form, "expected": "3", "csrf_token": token}
    )
    assert stale.status == 409
    await web.post("/admin/logout", data={"csrf_token": token})
    await sign_in(web, "petr", "good horse 1")  # a manager of Север: Анна's leads are not his
    plan = await web.get("/admin/leads/reassign", params={"scope": "all", "to": boris_id})
    assert plan.status == 403  # Борис is of Центр: not his to give to
    async with container.db.unit_of_work() as s:
        whose = set(await s.scalars(sa.select(Lead.assignee_id).where(Lead.id.in_(ids))))
    assert boris_id not in whose
