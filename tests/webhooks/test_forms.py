"""POST /webhooks/forms/{source}: Tilda and generic site forms become leads and cards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp import FormData

from models import Client, InboundEvent, Lead, OutboxMessage
from tests import factories

FIXTURES = Path(__file__).parent.parent / "fixtures"
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


async def everything(container) -> tuple[list[Lead], list[OutboxMessage], int]:
    async with container.db.unit_of_work() as s:
        found = (await s.execute(sa.select(Lead).order_by(Lead.id))).scalars().all()
        cards = (
            (await s.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        )
        clients = await factories.count(s, Client)
    return list(found), list(cards), clients


@pytest.fixture
async def anna(container, clock):
    async with container.db.unit_of_work() as s:
        return await factories.employee(s, clock, name="Анна")


async def test_a_tilda_lead_becomes_a_card_for_the_employee_with_utm_from_cookies(
    web, container, anna
):
    response = await web.post(
        "/webhooks/forms/tilda?token=form-secret",
        data=fixture("tilda/lead.urlencoded"),
        headers=URLENCODED,
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["status"] == "ok" and body["duplicate"] is False
    leads, cards, _ = await everything(container)
    [lead] = leads
    assert (lead.name, lead.phone, lead.email) == (
        "Иван Петров",
        "+79120001122",
        "ivan@example.com",
    )
    assert (lead.source, lead.form_name) == ("form:tilda", "form384512734")
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("vk", "cpc", "okna-leto")
    assert lead.comment == "Нужен замер окон на даче"
    assert lead.assignee_id == anna.id
    assert [(c.kind, c.recipient, c.payload["lead_id"]) for c in cards] == [
        ("lead_card", str(anna.telegram_id), lead.id)
    ]


async def test_tildas_retry_of_the_same_tranid_changes_nothing(web, container, anna):
    for _ in range(3):
        response = await web.post(
            "/webhooks/forms/tilda?token=form-secret",
            data=fixture("tilda/lead.urlencoded"),
            headers=URLENCODED,
        )
        assert response.status == 200
    assert (await response.json())["duplicate"] is True
    leads, cards, clients = await everything(container)
    assert (len(leads), len(cards), clients) == (1, 1, 1)


async def test_tildas_connection_probe_gets_200_and_writes_nothing(web, container, anna):
    response = await web.post(
        "/webhooks/forms/tilda?token=form-secret",
        data=fixture("tilda/probe.urlencoded"),
        headers=URLENCODED,
    )
    assert response.status == 200
    assert await everything(container) == ([], [], 0)


async def test_a_json_lead_with_the_token_header(web, container, anna):
    response = await web.post(
        "/webhooks/forms/site",
        json=json.loads(fixture("forms/lead.json")),
        headers={"X-CRM-Token": "form-secret"},
    )
    assert response.status == 200, await response.text()
    [lead], [card], _ = await everything(container)
    assert (lead.name, lead.phone, lead.email) == ("Мария", "+79120003344", "maria@example.com")
    assert (lead.landing_url, lead.form_name) == ("https://okna.example/promo", "Калькулятор")
    assert (lead.utm_source, lead.utm_campaign) == ("yandex", "msk-okna")
    assert card.recipient == str(anna.telegram_id)


async def test_a_multipart_form_with_the_token_in_the_body(web, container, anna):
    form = FormData()
    for key, value in {
        "name": "Олег",
        "phone": "+7 912 000-55-66",
        "token": "form-secret",
        "utm_source": "avito",
        "square_meters": "54",
    }.items():
        form.add_field(key, value)
    form.add_field("photo", b"\x89PNG...", filename="plan.png", content_type="image/png")
    response = await web.post("/webhooks/forms/landing", data=form)
    assert response.status == 200, await response.text()
    [lead], _, _ = await everything(container)
    assert (lead.phone, lead.utm_source, lead.source) == ("+79120005566", "avito", "form:landing")
    assert lead.extra == {"square_meters": "54"}


async def test_phone_variants_across_forms_are_one_client(web, container, anna):
    for i, phone in enumerate(["+7 912 000-11-22", "8(912)0001122", "79120001122"]):
        response = await web.post(
            "/webhooks/forms/site",
            headers={"X-CRM-Token": "form-secret"},
            json={"phone": phone, "request_id": f"r{i}"},
        )
        assert response.status == 200
    leads, _cards, clients = await everything(container)
    assert (len(leads), clients) == (3, 1)
    assert [lead.is_returning for lead in leads] == [False, True, True]


@pytest.mark.parametrize(
    "query, headers, status, error",
    [
        ("", {}, 401, "bad_token"),
        ("?token=wrong", {}, 401, "bad_token"),
        ("", {"X-CRM-Token": "nope"}, 401, "bad_token"),
    ],
)
async def test_unauthenticated_posts_are_refused_and_write_nothing(
    web, container, anna, query, headers, status, error
):
    response = await web.post(
        f"/webhooks/forms/tilda{query}",
        data=fixture("tilda/lead.urlencoded"),
        headers={**URLENCODED, **headers},
    )
    assert response.status == status
    assert (await response.json())["error"] == error
    assert await everything(container) == ([], [], 0)


async def test_malformed_input_gets_a_clear_4xx_and_writes_nothing(web, container, anna):
    headers = {"X-CRM-Token": "form-secret"}
    cases = [
        (dict(data="{not json", headers={**headers, "Content-Type": "application/json"}), 400),
        (dict(data="[1, 2]", headers={**headers, "Content-Type": "application/json"}), 400),
        (
            dict(
                data='{"phone": "+79120001122", "x": NaN}',
                headers={**headers, "Content-Type": "application/json"},
            ),
            400,
        ),
        (dict(data="<xml/>", headers={**headers, "Content-Type": "text/xml"}), 400),
        (dict(json={"comment": "no way to reach me"}, headers=headers), 422),
    ]
    for kwargs, status in cases:
        response = await web.post("/webhooks/forms/site", **kwargs)
        assert response.status == status, await response.text()
        body = await response.json()
        assert body["error"] and body["message"]
    assert await everything(container) == ([], [], 0)
    async with container.db.unit_of_work() as s:
        assert await factories.count(s, InboundEvent) == 0


async def test_forms_are_refused_while_forms_token_is_unset(web, container, anna):
    container.settings.forms_token = None
    response = await web.post(
        "/webhooks/forms/tilda", data=fixture("tilda/lead.urlencoded"), headers=URLENCODED
    )
    assert response.status == 403
    assert (await response.json())["error"] == "forms_disabled"


async def test_an_invalid_phone_still_makes_a_lead_with_the_raw_value(web, container, anna):
    response = await web.post(
        "/webhooks/forms/site",
        headers={"X-CRM-Token": "form-secret"},
        json={"name": "Пётр", "phone": "123-45"},
    )
    assert response.status == 200
    assert (await response.json())["warnings"] == ["invalid_phone"]
    [lead], [_card], _ = await everything(container)
    assert (lead.phone, lead.raw_phone, lead.phone_invalid) == (None, "123-45", True)
