"""What a PBX tells us about a call, whichever PBX it is (adapters translate into these)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from models import Direction


class CallState(enum.StrEnum):
    APPEARED = "appeared"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    DISCONNECTED = "disconnected"


class Party(BaseModel):
    """One end of a call: an outside number and/or an employee's extension."""

    number: str | None = Field(default=None, max_length=200)
    extension: str | None = Field(default=None, max_length=32)


class CallEventIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)  # the whole call
    leg_id: str = Field(min_length=1, max_length=200)  # one leg of it
    seq: int = 0  # orders the events of one leg
    state: CallState
    at: datetime
    caller: Party
    callee: Party
    line_number: str | None = None
    disconnect_reason: str | None = None


class CallSummaryIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)
    direction: Direction
    caller: Party
    callee: Party
    line_number: str | None = None
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    talk_seconds: int = Field(default=0, ge=0)
    answered: bool
    disconnect_reason: str | None = None
    recording_url: str | None = Field(default=None, max_length=2000)


class RecordingIn(BaseModel):
    provider: str
    entry_id: str = Field(min_length=1, max_length=200)
    recording_id: str | None = None
    recording_url: str | None = Field(default=None, max_length=2000)


@dataclass(frozen=True)
class CallOutcome:
    call_id: int | None
    duplicate: bool = False
    lead_id: int | None = None
    task_id: int | None = None


DUPLICATE = CallOutcome(None, duplicate=True)

CallInput = CallEventIn | CallSummaryIn | RecordingIn
