"""Every HTTP endpoint against generated hostile input: never a 5xx, a 2xx or a JSON 4xx,
nothing written on a 4xx, and every lead gets exactly one card the Bot API accepts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admin_web import csrf
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.hostile import strategies as hs
from tests.hostile.support import CALLS_TOKEN, FORMS_TOKEN, TG_SECRET, Rig, mango_form

pytestmark = pytest.mark.filterwarnings(
    "ignore:Detected unknown update type", "ignore::aiohttp.multipart.BadContentDispositionHeader"
)


@given(
    body=hs.raw_bodies(hs.form_fields()),
    source=st.sampled_from(["tilda", "site", "tilda", "site", "Landing_2", "x" * 60, "%00"]),
    token_in=st.sampled_from(["header", "header", "query", "none"]),
)
async def test_site_forms(rig: Rig, body: tuple[bytes, str], source: str, token_in: str) -> None:
    data, content_type = body
    headers = {"Content-Type": content_type} if content_type else {}
    query = ""
    if token_in == "header":
        headers["X-CRM-Token"] = FORMS_TOKEN
    elif token_in == "query":
        query = f"?token={FORMS_TOKEN}"
    status, answer = await rig.exchange(
        "forms",
        lambda: rig.web.post(f"/webhooks/forms/{source}{query}", data=data, headers=headers),
    )
    if status == 200 and answer.get("lead_id"):
        assert answer["status"] == "ok"


@given(body=hs.raw_bodies(hs.generic_call()))
async def test_generic_calls(rig: Rig, body: tuple[bytes, str]) -> None:
    data, content_type = body
    headers = {"X-CRM-Token": CALLS_TOKEN, "Content-Type": content_type}
    await rig.exchange("calls", lambda: rig.web.post("/webhooks/calls", data=data, headers=headers))


@pytest.mark.parametrize("event", ["call", "summary", "recording", "dtmf"])
@given(data=st.data())
async def test_mango_events_with_valid_signs(rig: Rig, event: str, data: st.DataObject) -> None:
    body = data.draw(hs.mango_json(event))
    form = hs.urlencode(list(mango_form(body).items()))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    await rig.exchange(
        f"mango/{event}",
        lambda: rig.web.post(f"/webhooks/mango/events/{event}", data=form, headers=headers),
    )


@given(body=hs.raw_bodies(hs.form_fields()))
async def test_mango_events_with_hostile_envelopes(rig: Rig, body: tuple[bytes, str]) -> None:
    data, content_type = body
    await rig.exchange(
        "mango/envelope",
        lambda: rig.web.post(
            "/webhooks/mango/events/call", data=data, headers={"Content-Type": content_type}
        ),
    )


@given(
    update=hs.tg_update(),
    encoding=st.sampled_from(["json", "json", "json", "ascii", "ascii", "garbage", "deep"]),
)
async def test_telegram_webhook(rig: Rig, update: object, encoding: str) -> None:
    if encoding == "deep":
        body = b'{"update_id": 1, "message": ' * 3000 + b"1" + b"}" * 3000
    elif encoding == "garbage":
        body = hs.encode_json(update, True)[:-1] + b"\xff"
    else:
        body = hs.encode_json(update, encoding == "ascii")
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}
    status, answer = await rig.exchange(
        "telegram", lambda: rig.web.post("/webhooks/telegram", data=body, headers=headers)
    )
    assert status in (200, 400), answer


@given(
    path=st.sampled_from(["/healthz", "/metrics", "/admin/login"]),
    query=hs.TEXT,
    header=hs.TEXT,
)
async def test_health_metrics_and_login_page(rig: Rig, path: str, query: str, header: str) -> None:
    # aiohttp itself refuses a request line over 8 KiB (a plain-text 400, before the app).
    params = {"q": query.encode("utf-8", "surrogatepass").decode("latin-1")[:1000]}
    headers = {"X-Anything": header.encode("utf-8", "surrogatepass").hex()[:200]}
    status, _ = await rig.exchange(path, lambda: rig.web.get(path, params=params, headers=headers))
    assert status == 200


@given(body=hs.raw_bodies(st.fixed_dictionaries({"login": hs.TEXT, "password": hs.TEXT})))
async def test_admin_login(rig: Rig, body: tuple[bytes, str]) -> None:
    data, content_type = body
    response_status = await _admin_post(rig, data, content_type)
    assert response_status < 500


@given(body=hs.raw_bodies(st.fixed_dictionaries({"login": hs.TEXT, "password": hs.TEXT})))
async def test_admin_login_past_its_csrf_check(rig: Rig, body: tuple[bytes, str]) -> None:
    """With the page's own pre-session token, so the hostile form reaches the sign-in logic
    (password check, throttling, audit) rather than stopping at the CSRF check."""
    data, content_type = body
    response_status = await _admin_post(rig, data, content_type, genuine=True)
    assert response_status != 403


async def _admin_post(rig: Rig, data: bytes, content_type: str, *, genuine: bool = False) -> int:
    """The admin web answers in HTML (its own pages, redirects); only "never a 5xx" applies."""
    headers = {"Content-Type": content_type}
    if genuine:
        secret = "hostile-suite-pre-session"
        headers |= {
            "Cookie": f"{csrf.PRE_SESSION_COOKIE}={secret}",
            csrf.HEADER: csrf.token_for(secret),
        }
    response = await rig.web.post("/admin/login", data=data, headers=headers, allow_redirects=False)
    name = f"/admin/login POST {response.status}"
    rig.examples[name] = rig.examples.get(name, 0) + 1
    assert response.status < 500, (response.status, (await response.read())[:300])
    await rig.cards_delivered("admin login")
    return response.status


@given(
    notification=hs.wa_notification(),
    encoding=st.sampled_from(["json", "json", "ascii", "garbage", "deep", "unsigned"]),
)
async def test_whatsapp_webhook(
    rig: Rig, fake_wa: FakeWhatsApp, notification: object, encoding: str
) -> None:
    """Signed as Meta signs, so hostile values reach the conversations service."""
    if encoding == "deep":
        raw = (
            b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 3000 + b"]" * 3000 + b"}"
        )
    elif encoding == "garbage":
        raw = hs.encode_json(notification, True)[:-1] + b"\xff"
    else:
        raw = hs.encode_json(notification, encoding == "ascii")
    body, headers = fake_wa.signed(raw)
    if encoding == "unsigned":
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    status, answer = await rig.exchange(
        "whatsapp", lambda: rig.web.post("/webhooks/whatsapp", data=body, headers=headers)
    )
    assert status in (200, 400, 401, 422), answer
