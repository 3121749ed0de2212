"""Who may see which clients: the one rule every search, card and list applies.

An employee (or support) sees the clients they own and those whose lead or deal is theirs; a
manager sees their office's clients (the client's office, or an owner in the office) and
their own; a manager without an office and an admin see all. A client merged into another is
not shown (its survivor is).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from models import Client, Deal, Employee, Lead, Role
from services.access import HasRole
from services.errors import AccessDenied, NotFound


def visible(by: HasRole) -> ColumnElement[bool]:
    """A WHERE clause on `Client` for the clients `by` may see."""
    alive = Client.merged_into_id.is_(None)
    if by.role is Role.ADMIN or (by.role is Role.MANAGER and by.office_id is None):
        return alive
    own = sa.or_(
        Client.owner_id == by.id,
        sa.exists().where(Lead.client_id == Client.id, Lead.assignee_id == by.id),
        sa.exists().where(Deal.client_id == Client.id, Deal.owner_id == by.id),
    )
    if by.role is Role.MANAGER:
        office = sa.or_(
            Client.office_id == by.office_id,
            Client.owner_id.in_(sa.select(Employee.id).where(Employee.office_id == by.office_id)),
        )
        return sa.and_(alive, sa.or_(office, own))
    return sa.and_(alive, own)


def own_client_ids(by: HasRole) -> sa.CompoundSelect:
    """The ids of `by`'s own clients (owned, or whose lead or deal is theirs): the part of
    `visible` an employee is limited to, as a set a search can start from (a few hundred
    rows) instead of testing every client against it. Keep the two in step."""
    return sa.union(
        sa.select(Client.id).where(Client.owner_id == by.id),
        sa.select(Lead.client_id).where(Lead.assignee_id == by.id),
        sa.select(Deal.client_id).where(Deal.owner_id == by.id),
    )


async def can_see(session: AsyncSession, client_id: int, by: HasRole) -> bool:
    stmt = sa.select(sa.literal(1)).where(Client.id == client_id, visible(by))
    return (await session.scalar(stmt)) is not None


async def require(session: AsyncSession, client_id: int, by: HasRole) -> Client:
    """The client if `by` may see it; NotFound if there is none, AccessDenied otherwise."""
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound("no such client", key="client.not_found", client_id=client_id)
    if not await can_see(session, client_id, by):
        raise AccessDenied("not your client", key="client.no_access", client_id=client_id)
    return client
