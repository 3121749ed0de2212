"""Who may see which clients: the one rule every search, card and list applies.

An employee (or support) sees the clients they own and those whose lead or deal is theirs; a
manager sees their office's clients (the client's office, or an owner in the office) and
their own; a manager without an office and an admin see all. A client merged into another is
not shown (its survivor is).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from models import Client, Conversation, Deal, Employee, Lead, Role
from services.access import HasRole
from services.errors import AccessDenied, NotFound

VIEWER, VIEWER_OFFICE = "viewer_id", "viewer_office_id"


def visible(by: HasRole) -> ColumnElement[bool]:
    """A WHERE clause on `Client` for the clients `by` may see. Its values are bound at
    execution: run the statement with `params(by)`."""
    return _visible(_scope(by))


def params(by: HasRole) -> dict[str, Any]:
    """The values `visible` and `own_matching` are run with."""
    return {VIEWER: by.id, VIEWER_OFFICE: by.office_id}


def _scope(by: HasRole) -> str:
    if by.role is Role.ADMIN or (by.role is Role.MANAGER and by.office_id is None):
        return "all"
    return "office" if by.role is Role.MANAGER else "own"


@cache  # one clause per scope, built once (building it cost more than running the query)
def _visible(scope: str) -> ColumnElement[bool]:
    alive = Client.merged_into_id.is_(None)
    if scope == "all":
        return alive
    viewer = sa.bindparam(VIEWER, type_=sa.BigInteger)
    own = sa.or_(
        Client.owner_id == viewer,
        sa.exists().where(Lead.client_id == Client.id, Lead.assignee_id == viewer),
        sa.exists().where(Deal.client_id == Client.id, Deal.owner_id == viewer),
        # a conversation a manager handed to them (services.conversations.handover)
        sa.exists().where(Conversation.client_id == Client.id, Conversation.assignee_id == viewer),
    )
    if scope == "office":
        office_id = sa.bindparam(VIEWER_OFFICE, type_=sa.BigInteger)
        office = sa.or_(
            Client.office_id == office_id,
            Client.owner_id.in_(sa.select(Employee.id).where(Employee.office_id == office_id)),
        )
        return sa.and_(alive, sa.or_(office, own))
    return sa.and_(alive, own)


def starts_from_own(by: HasRole) -> bool:
    """Whether `by` sees only their own clients (an employee, support): a few hundred a
    search can start from (`own_matching`)."""
    return _scope(by) == "own"


def own_matching(*conditions: ColumnElement[bool]) -> sa.CompoundSelect:
    """For `by` who `starts_from_own`: the id and search text of the clients `visible(by)`
    (keep the two in step) that meet `conditions` (on `Client`), in two parts that never
    overlap: the clients they own, which PostgreSQL reads from the owner index alone (it
    carries the search text: migration 0015), and those whose lead, deal or conversation is
    theirs but that
    they do not own, a few, looked up by primary key. Run with `params(by)`."""
    viewer = sa.bindparam(VIEWER, type_=sa.BigInteger)
    alive = Client.merged_into_id.is_(None)
    owned = aliased(Client)
    theirs = sa.except_(
        sa.union(
            sa.select(Lead.client_id).where(Lead.assignee_id == viewer),
            sa.select(Deal.client_id).where(Deal.owner_id == viewer),
            sa.select(Conversation.client_id).where(Conversation.assignee_id == viewer),
        ),
        sa.select(owned.id).where(owned.owner_id == viewer),
    )
    ids = sa.func.array(sa.select(theirs.subquery().c[0]).scalar_subquery())
    return sa.union_all(
        sa.select(Client.id, Client.search_text).where(
            Client.owner_id == viewer, alive, *conditions
        ),
        sa.select(Client.id, Client.search_text).where(
            Client.id == sa.any_(ids), alive, *conditions
        ),
    )


async def can_see(session: AsyncSession, client_id: int, by: HasRole) -> bool:
    stmt = sa.select(sa.literal(1)).where(Client.id == client_id, visible(by))
    return (await session.scalar(stmt, params(by))) is not None


async def require(session: AsyncSession, client_id: int, by: HasRole) -> Client:
    """The client if `by` may see it; NotFound if there is none, AccessDenied otherwise."""
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound("no such client", key="client.not_found", client_id=client_id)
    if not await can_see(session, client_id, by):
        raise AccessDenied("not your client", key="client.no_access", client_id=client_id)
    return client
