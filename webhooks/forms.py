"""`POST /webhooks/forms/{source}`: site forms (Tilda and any form that can POST).

verify token → parse into LeadIn → register the lead (recording the delivery) → 200.
Tilda: answers its `test=test` probe with 200; `tranid` makes its retries no-ops; UTM tags
come as hidden `utm_*` fields or inside the `TILDAUTM` cookie of `COOKIES`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from pydantic import ValidationError

from models.lead import UTM_FIELDS
from services.leads.inputs import LeadIn
from services.leads.intake import Incoming
from web_app import container_of
from webhooks.common import (
    given_token,
    invalid_fields,
    json_error,
    read_fields,
    secret_matches,
)

SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")
_ALIASES = {
    "name": ("name", "fio", "fullname", "full_name", "имя", "фио", "your_name"),
    "phone": ("phone", "tel", "telephone", "phone_number", "телефон", "your_phone"),
    "email": ("email", "e-mail", "mail", "почта", "your_email"),
    "comment": (
        "comment",
        "comments",
        "message",
        "textarea",
        "text",
        "question",
        "комментарий",
        "сообщение",
        "вопрос",
    ),
    "landing_url": ("landing_url", "landing", "page", "page_url", "url", "referer", "referrer"),
    "form_name": ("form_name", "formname", "formid", "form"),
    "office": ("office", "офис"),
}
_EVENT_ID_FIELDS = ("tranid", "request_id", "submission_id")
_SERVICE_FIELDS = {"token", "cookies", *_EVENT_ID_FIELDS}


async def receive(request: web.Request) -> web.Response:
    container = container_of(request)
    source = request.match_info["source"].lower()
    if not SOURCE_RE.match(source):
        return json_error(404, "unknown_source", "source must be a short slug like 'tilda'")
    expected = container.settings.forms_token
    if not expected:
        return json_error(403, "forms_disabled", "site forms are off: set FORMS_TOKEN")
    # Integers beyond 64 bits are kept as digits: an odd field never costs the lead.
    fields = {str(k): v for k, v in (await read_fields(request, big_ints="text")).items()}
    if not secret_matches(given_token(request, fields), expected):
        return json_error(401, "bad_token", "missing or wrong form token")
    if _is_tilda_probe(fields):
        return web.json_response({"status": "ok", "test": True})
    try:
        lead_in, event_id = to_lead_in(source, fields)
    except ValidationError as exc:
        return invalid_fields(exc, "invalid_form", "the form fields are not valid")
    event = (f"form:{source}", event_id) if event_id else None
    result = await container.intake.submit(Incoming(lead_in, event))
    return web.json_response(
        {
            "status": "ok",
            "duplicate": result.duplicate,
            "lead_id": result.lead_id,
            "warnings": result.warnings,
        }
    )


def to_lead_in(source: str, fields: dict[str, Any]) -> tuple[LeadIn, str | None]:
    lowered = {k.strip().lower(): v for k, v in fields.items()}
    picked: dict[str, Any] = {}
    used: set[str] = set(_SERVICE_FIELDS)
    for target, names in _ALIASES.items():
        for name in names:
            if _text(lowered.get(name)):
                picked[target] = _text(lowered[name])
                used.add(name)
                break
    utm = _tilda_utm(_text(lowered.get("cookies")) or "")
    utm.update({k: _text(lowered[k]) or "" for k in UTM_FIELDS if _text(lowered.get(k))})
    used.update(UTM_FIELDS)
    extra = {k: v for k, v in fields.items() if k.strip().lower() not in used}
    event_id = next((_text(lowered[f]) for f in _EVENT_ID_FIELDS if _text(lowered.get(f))), None)
    lead_in = LeadIn(source=f"form:{source}", utm=utm, extra=extra, **picked)
    return lead_in, event_id


def _is_tilda_probe(fields: dict[str, Any]) -> bool:
    rest = {k.lower(): v for k, v in fields.items() if k.lower() != "token"}
    return rest == {"test": "test"}


def _tilda_utm(cookies: str) -> dict[str, str]:
    """TILDAUTM=utm_source%3Dvk%7C%7C%7Cutm_medium%3Dcpc inside the COOKIES string."""
    for part in cookies.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "TILDAUTM":
            pairs = (item.partition("=") for item in unquote(value).split("|||"))
            return {k: v for k, _, v in pairs if k in UTM_FIELDS and v}
    return {}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
