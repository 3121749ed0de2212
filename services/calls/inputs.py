"""What a PBX tells us about a call, whichever PBX it is (adapters translate into these)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic import BaseModel, Field

from models import Direction
from services.bounds import Int64, SaneTime, Seconds

# The calls table's column sizes: a PBX value longer than these is not a number or an id.
NUMBER_CAP, EXTENSION_CAP, LINE_CAP, REASON_CAP, ID_CAP = 64, 32, 32, 32, 200
MAX_CALL_SECONDS = 7 * 24 * 3600


class CallState(enum.StrEnum):
    APPEARED = "appeared"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    DISCONNECTED = "disconnected"


class Party(BaseModel):
    """One end of a call: an outside number and/or an employee's extension."""

    number: str | None = Field(default=None, max_length=NUMBER_CAP)
    extension: str | None = Field(default=None, max_length=EXTENSION_CAP)


class CallEventIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)  # the whole call
    leg_id: str = Field(min_length=1, max_length=200)  # one leg of it
    seq: Int64 = 0  # orders the events of one leg
    state: CallState
    at: SaneTime
    caller: Party
    callee: Party
    line_number: str | None = Field(default=None, max_length=LINE_CAP)
    disconnect_reason: str | None = Field(default=None, max_length=REASON_CAP)


class CallSummaryIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)
    direction: Direction
    caller: Party
    callee: Party
    line_number: str | None = Field(default=None, max_length=LINE_CAP)
    started_at: SaneTime
    answered_at: SaneTime | None = None
    ended_at: SaneTime | None = None
    talk_seconds: Seconds = 0
    answered: bool
    disconnect_reason: str | None = Field(default=None, max_length=REASON_CAP)
    recording_url: str | None = Field(default=None, max_length=2000)


class RecordingIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)
    recording_id: str | None = Field(default=None, max_length=ID_CAP)
    recording_url: str | None = Field(default=None, max_length=2000)


@dataclass(frozen=True)
class CallOutcome:
    call_id: int | None
    duplicate: bool = False
    lead_id: int | None = None
    task_id: int | None = None


DUPLICATE = CallOutcome(None, duplicate=True)

CallInput = CallEventIn | CallSummaryIn | RecordingIn
