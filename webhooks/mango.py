"""`POST /webhooks/mango/events/{event}`: Mango Office VPBX events (PROTOCOLS §3).

verify `sign` = sha256(vpbx_api_key + json + vpbx_api_salt) over the exact received `json`
→ parse into CallEventIn / CallSummaryIn / RecordingIn → call the calls service → 200.
Events the product does not use (dtmf, sms, …) get 200 and are ignored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from models import Direction
from services.bounds import fits_int64, from_unix
from services.calls.inputs import CallEventIn, CallState, CallSummaryIn, Party, RecordingIn
from web_app import container_of
from webhooks.common import invalid_fields, json_error, parse_json, read_form, secret_matches

PROVIDER = "mango"
_STATES = {
    "appeared": CallState.APPEARED,
    "connected": CallState.CONNECTED,
    "onhold": CallState.ON_HOLD,
    "disconnected": CallState.DISCONNECTED,
}
_DIRECTIONS = {0: Direction.INTERNAL, 1: Direction.IN, 2: Direction.OUT}


async def receive(request: web.Request) -> web.Response:
    container = container_of(request)
    key, salt = container.settings.mango_api_key, container.settings.mango_api_salt
    if not key or not salt:
        return json_error(
            403, "mango_off", "Mango Office is off: set MANGO_API_KEY and MANGO_API_SALT"
        )
    form = await read_form(request, exact=True)  # the sign covers the exact `json`
    given_key, sign, body = (form.get(name) for name in ("vpbx_api_key", "sign", "json"))
    if not isinstance(given_key, str) or not isinstance(sign, str) or not isinstance(body, str):
        return json_error(401, "unsigned", "vpbx_api_key, sign and json are required")
    expected = hashlib.sha256(
        (given_key + body + salt).encode("utf-8", "surrogatepass")
    ).hexdigest()
    if not secret_matches(given_key, key) or not secret_matches(sign.lower(), expected):
        return json_error(403, "bad_sign", "wrong vpbx_api_key or sign")
    data = parse_json(body)  # signed, so now it is worth reading
    if not isinstance(data, dict):
        return json_error(422, "bad_event", "not a Mango event: json must be an object")
    try:
        parsed = _parse(request.match_info["event"], data)
    except ValidationError as exc:
        return invalid_fields(exc, "bad_event", "not a Mango event")
    except (ValueError, KeyError, TypeError) as exc:
        return json_error(422, "bad_event", f"not a Mango event: {exc!r}"[:300])
    if parsed is None:
        return web.json_response({"status": "ignored"})
    outcome = await container.calls.submit(parsed)
    return web.json_response({"status": "ok", "duplicate": outcome.duplicate})


def _parse(event: str, data: dict[str, Any]) -> CallEventIn | CallSummaryIn | RecordingIn | None:
    if event == "call":
        return _call_event(data)
    if event == "summary":
        return _summary(data)
    if event == "recording":
        return _recording(data)
    return None


def _call_event(data: dict[str, Any]) -> CallEventIn | None:
    state = _STATES.get(str(data["call_state"]).lower())
    if state is None:
        return None  # a state we do not track
    return CallEventIn(
        provider=PROVIDER,
        entry_id=str(data["entry_id"]),
        leg_id=str(data["call_id"]),
        seq=_int(data.get("seq")),
        state=state,
        at=_time(data["timestamp"]),
        caller=_party(data.get("from")),
        callee=_party(data.get("to")),
        line_number=_text(_object(data.get("to")).get("line_number")),
        disconnect_reason=_text(data.get("disconnect_reason")),
    )


def _summary(data: dict[str, Any]) -> CallSummaryIn:
    talk, end = _int(data.get("talk_time")), _int(data.get("end_time"))
    # Mango: talk_time is when the talk began (0 if there was none); summaries that say
    # "talk happened" with talk_time 0 (a call that ended in the IVR) are unanswered.
    answered = talk > 0 and _int(data.get("entry_result")) == 1
    return CallSummaryIn(
        provider=PROVIDER,
        entry_id=str(data["entry_id"]),
        direction=_DIRECTIONS.get(_int(data.get("call_direction"), 1), Direction.IN),
        caller=_party(data.get("from")),
        callee=_party(data.get("to")),
        line_number=_text(data.get("line_number")),
        started_at=_time(data["create_time"]),
        answered_at=_time(talk) if answered else None,
        ended_at=_time(end) if end else None,
        talk_seconds=max(end - talk, 0) if answered and end else 0,
        answered=answered,
        disconnect_reason=_text(data.get("disconnect_reason")),
    )


def _recording(data: dict[str, Any]) -> RecordingIn | None:
    state = str(data.get("recording_state", "Completed")).lower()
    code = _int(data.get("completion_code"), 1000)
    if state != "completed" or code != 1000:
        return None  # still recording, or not saved (too short, limit reached)
    return RecordingIn(
        provider=PROVIDER,
        entry_id=str(data["entry_id"]),
        recording_id=_text(data.get("recording_id")),
    )


def _party(raw: Any) -> Party:
    raw = _object(raw)
    return Party(number=_text(raw.get("number")), extension=_text(raw.get("extension")))


def _object(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _int(value: Any, default: int = 0) -> int:
    """Mango sends numbers as ints or as digit strings; ValueError for anything else."""
    if value in (None, ""):
        return default
    if isinstance(value, bool | dict | list) or (isinstance(value, str) and len(value) > 20):
        raise ValueError(f"not a number: {value!r}"[:100])
    number = int(value)
    if not fits_int64(number):
        raise ValueError(f"number out of range: {number}"[:100])
    return number


def _time(value: Any) -> datetime:
    return from_unix(_int(value))


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
