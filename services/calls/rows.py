"""The call row: finding it, keeping its legs and phase, and whose phone a party is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Call, CallPhase, CallStatus, Channel, Direction, Employee, PhoneLine
from services import clients
from services.calls.inputs import CallEventIn, CallState, Party
from services.clients.identities import normalize_phone
from services.context import Company
from services.errors import InvalidPhone

_PHASE = {
    CallState.APPEARED: CallPhase.RINGING,
    CallState.CONNECTED: CallPhase.TALKING,
    CallState.ON_HOLD: CallPhase.TALKING,
    CallState.DISCONNECTED: CallPhase.ENDED,
}
_RANK = {CallPhase.RINGING: 0, CallPhase.TALKING: 1, CallPhase.ENDED: 2}


def direction_of(caller: Party, callee: Party) -> Direction:
    if caller.extension and callee.extension:
        return Direction.INTERNAL
    return Direction.OUT if caller.extension else Direction.IN


def advance(call: CallRow, event: CallEventIn) -> bool:
    """Record the leg's event if it is newer than what we have; the call's phase is the
    furthest-back live leg (a call ends when all its legs have)."""
    legs = dict(call.legs or {})
    last = legs.get(event.leg_id)
    if last is not None and event.seq <= last["seq"]:
        return False
    phase = _PHASE[event.state]
    if last is not None and _RANK[CallPhase(last["phase"])] > _RANK[phase]:
        phase = CallPhase(last["phase"])  # a leg never goes back
    legs[event.leg_id] = {"seq": event.seq, "phase": phase.value}
    call.legs = legs
    if call.summarized_at is None:
        live = [CallPhase(leg["phase"]) for leg in legs.values()]
        call.phase = (
            CallPhase.TALKING
            if CallPhase.TALKING in live
            else CallPhase.RINGING
            if CallPhase.RINGING in live
            else CallPhase.ENDED
        )
    if phase is CallPhase.ENDED and event.disconnect_reason:
        call.disconnect_reason = event.disconnect_reason
    return True


async def upsert(
    session: AsyncSession,
    provider: str,
    entry_id: str,
    direction: Direction,
    caller: Party,
    callee: Party,
    line_number: str | None,
    at: datetime,
    company: Company,
) -> CallRow:
    call = await by_entry(session, provider, entry_id)
    created = call is None
    if call is None:
        call = new_row(provider, entry_id, direction, at)
    outside = caller if direction is Direction.IN else callee
    call.direction = direction
    call.from_number, call.to_number = (
        caller.number or caller.extension,
        callee.number or callee.extension,
    )
    call.client_number = call.client_number or _phone(outside.number, company.region)
    line = (_phone(line_number, company.region) or line_number) if line_number else None
    if line and line != call.line_number:
        call.line_number, call.line_id = line, await _line_id(session, line)
    if created and call.client_number:
        found = await clients.find(session, [(Channel.PHONE, call.client_number)])
        call.client_id = found.id if found else None
    if call.started_at is None or at < call.started_at:
        call.started_at = at
    return call


_CALLS = Call.__table__
_COLUMNS = tuple(c.name for c in _CALLS.columns)


class CallRow:
    """A `calls` row read and written with Core statements (the ORM's flush machinery costs
    more than the rest of a call event together); attributes are the table's columns."""

    def __init__(self, **values: Any) -> None:
        for name in _COLUMNS:
            setattr(self, name, values.get(name))
        self._saved: dict[str, Any] = {n: getattr(self, n) for n in _COLUMNS}

    def changes(self) -> dict[str, Any]:
        return {n: v for n in _COLUMNS if (v := getattr(self, n)) != self._saved[n]}

    def mark_saved(self) -> None:
        self._saved = {n: getattr(self, n) for n in _COLUMNS}


def new_row(provider: str, entry_id: str, direction: Direction, at: datetime | None) -> CallRow:
    return CallRow(
        provider=provider,
        external_id=entry_id,
        direction=direction,
        legs={},
        status=CallStatus.RINGING,
        phase=CallPhase.RINGING,
        started_at=at,
        talk_seconds=0,
    )


async def save(session: AsyncSession, call: CallRow, now: datetime) -> None:
    """Insert a new row (learning its id) or update the columns that changed."""
    if call.id is None:
        call.created_at = call.updated_at = now
        values = {n: v for n in _COLUMNS if (v := getattr(call, n)) is not None}
        call.id = (await session.execute(_INSERT, values)).scalar_one()
    elif changes := call.changes():
        changes["updated_at"] = now
        await session.execute(sa.update(_CALLS).where(_CALLS.c.id == call.id), changes)
        call.updated_at = now
    call.mark_saved()


_INSERT = sa.insert(_CALLS).returning(_CALLS.c.id)
_BY_ENTRY = (
    sa.select(_CALLS)
    .where(
        _CALLS.c.provider == sa.bindparam("provider"), _CALLS.c.external_id == sa.bindparam("entry")
    )
    .with_for_update()
)
_LINE = sa.select(PhoneLine.id).where(PhoneLine.number == sa.bindparam("number"))
_E = Employee.__table__
_BY_EXTENSION = (
    sa.select(_E.c.id, _E.c.telegram_id, _E.c.locale)
    .where(_E.c.extension == sa.bindparam("extension"), _E.c.is_active)
    .limit(1)
)
_BY_LINE = (
    sa.select(_E.c.id, _E.c.telegram_id, _E.c.locale)
    .join(PhoneLine.__table__, PhoneLine.employee_id == _E.c.id)
    .where(PhoneLine.id == sa.bindparam("line"), _E.c.is_active)
    .limit(1)
)


async def by_entry(session: AsyncSession, provider: str, entry_id: str) -> CallRow | None:
    result = await session.execute(_BY_ENTRY, {"provider": provider, "entry": entry_id})
    row = result.mappings().first()
    return CallRow(**row) if row is not None else None


def _phone(number: str | None, region: str) -> str | None:
    """The outside party's number in E.164, or None for an extension, SIP URI or garbage.

    PBXs write numbers as dialled ("8 912…") or as country code and digits without "+"
    ("7912…", "375…"); the national reading is tried first, then the international one.
    """
    if not number or number.startswith("sip:"):
        return None
    for candidate, international in ((number, False), (number, True)):
        try:
            return normalize_phone(candidate, region, international=international)
        except InvalidPhone:
            continue
    return None


async def _line_id(session: AsyncSession, number: str) -> int | None:
    return (await session.execute(_LINE, {"number": number})).scalar_one_or_none()


async def whose_phone(session: AsyncSession, party: Party, line_id: int | None) -> sa.Row | None:
    """Whose phone this is: the extension, or else the owner of the line that was called."""
    if party.extension:
        found = (await session.execute(_BY_EXTENSION, {"extension": party.extension})).first()
        if found is not None:
            return found
    if line_id is not None:
        return (await session.execute(_BY_LINE, {"line": line_id})).first()
    return None
