"""What every step of an import shares: the tables, the limits, who may see an import."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ClientImport,
    ClientImportRow,
    Employee,
)
from services import access
from services.actors import Actor
from services.errors import NotFound

log = logging.getLogger(__name__)

BATCH = 1000


MATCHES = ("skip", "update", "create")
NAME_MAX, COMPANY_MAX, TAG_MAX, POSITION_MAX = 300, 300, 64, 200


_I, _R = ClientImport.__table__, ClientImportRow.__table__


async def _mine(
    session: AsyncSession, import_id: int, by: Actor, *, lock: bool = False
) -> ClientImport:
    access.require_bulk(by)
    found = await session.get(ClientImport, import_id, with_for_update=lock)
    if found is None or not access.can_see_bulk(by, actor_id=found.actor_id):
        raise NotFound(f"no import {import_id}", key="web.not_found")
    return found


async def _owner(session: AsyncSession, owner_id: int | None, by: Actor) -> Employee:
    """Whose the new clients are: an active employee; a manager's: of their office."""
    owner = await session.get(Employee, owner_id or by.id)
    if owner is None or not owner.is_active:
        raise NotFound("no such employee", key="bulk.no_such_employee")
    access.require_give_in_bulk(by, to_office_id=owner.office_id)
    return owner
