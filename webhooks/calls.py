"""`POST /webhooks/calls`: the generic telephony contract (SPEC), so any PBX with a webhook
can be wired in. One JSON object per call event:

    {"call_id": "...", "direction": "in"|"out", "from": "...", "to": "...", "line": "...",
     "status": "ringing"|"connected"|"answered"|"missed", "started_at": ISO 8601 or unix,
     "duration": talk seconds, "recording_url": "...", "employee": "<extension>"}

`ringing`/`connected` are live events (screen-pop; `employee` is whose phone rings);
`answered`/`missed` are the final summary. Token: `CALLS_TOKEN` as `X-CRM-Token` or `?token=`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models import Direction
from services.bounds import SaneTime
from services.calls.inputs import (
    MAX_CALL_SECONDS,
    NUMBER_CAP,
    CallEventIn,
    CallState,
    CallSummaryIn,
    Party,
)
from web_app import container_of
from webhooks.common import (
    given_token,
    invalid_fields,
    json_error,
    read_fields,
    secret_matches,
)

PROVIDER = "generic"


class GenericCallIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, str_strip_whitespace=True)

    call_id: str = Field(min_length=1, max_length=200)
    direction: Literal["in", "out"]
    caller: str | None = Field(default=None, alias="from", max_length=NUMBER_CAP)
    callee: str | None = Field(default=None, alias="to", max_length=NUMBER_CAP)
    line: str | None = Field(default=None, max_length=32)
    status: Literal["ringing", "connected", "answered", "missed"]
    started_at: SaneTime
    duration: int = Field(default=0, ge=0, le=MAX_CALL_SECONDS)
    recording_url: str | None = Field(default=None, max_length=2000)
    employee: str | None = Field(default=None, max_length=32)

    def parties(self) -> tuple[Party, Party]:
        outside = self.caller if self.direction == "in" else self.callee
        ours = self.callee if self.direction == "in" else self.caller
        extension = self.employee or (ours if ours and ours.isdigit() and len(ours) <= 6 else None)
        client, staff = Party(number=outside), Party(number=ours, extension=extension)
        return (client, staff) if self.direction == "in" else (staff, client)


async def receive(request: web.Request) -> web.Response:
    container = container_of(request)
    expected = container.settings.calls_token
    if not expected:
        return json_error(403, "calls_disabled", "the calls webhook is off: set CALLS_TOKEN")
    if not secret_matches(given_token(request), expected):
        return json_error(401, "bad_token", "missing or wrong calls token")
    fields = await read_fields(request)
    try:
        call = GenericCallIn.model_validate(fields)
    except ValidationError as exc:
        return invalid_fields(exc, "invalid_call", "the call fields are not valid")
    outcome = await container.calls.submit(to_call_input(call))
    return web.json_response(
        {"status": "ok", "duplicate": outcome.duplicate, "call_id": outcome.call_id}
    )


def to_call_input(call: GenericCallIn) -> CallEventIn | CallSummaryIn:
    """`ringing`/`connected` are live events; `answered`/`missed` the final summary."""
    caller, callee = call.parties()
    if call.status in ("ringing", "connected"):
        ringing = call.status == "ringing"
        return CallEventIn(
            provider=PROVIDER,
            entry_id=call.call_id,
            leg_id=call.call_id,
            seq=0 if ringing else 1,
            state=CallState.APPEARED if ringing else CallState.CONNECTED,
            at=call.started_at,
            caller=caller,
            callee=callee,
            line_number=call.line,
        )
    answered = call.status == "answered"
    return CallSummaryIn(
        provider=PROVIDER,
        entry_id=call.call_id,
        direction=Direction.IN if call.direction == "in" else Direction.OUT,
        caller=caller,
        callee=callee,
        line_number=call.line,
        started_at=call.started_at,
        answered=answered,
        talk_seconds=call.duration if answered else 0,
        ended_at=call.started_at + timedelta(seconds=call.duration),
        recording_url=call.recording_url,
    )
