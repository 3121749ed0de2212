"""Binding a staff supergroup as a team inbox (of an office, or of the whole company).

The Bot API calls that find out what the bot may do in the group are the handler's; what the
answers mean (which rights are missing, who may bind, which scope) is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Office, Role, TeamInbox
from models.team import COMPANY_SCOPE
from services import audit
from services.actors import Actor
from services.context import Company
from services.errors import AccessDenied, Conflict, NotFound

# What the bot needs in the group, in the order they are asked for.
NEEDED_RIGHTS = ("can_manage_topics", "can_pin_messages", "can_delete_messages")


@dataclass(frozen=True)
class GroupFacts:
    """What Telegram says about the group and the bot's place in it."""

    chat_id: int
    title: str | None
    is_supergroup: bool
    is_forum: bool
    bot_is_admin: bool
    rights: frozenset[str]  # the bot's admin rights that are on

    def missing(self) -> list[str]:
        """What is missing, as locale keys' last parts, most basic first."""
        if not self.is_supergroup:
            return ["supergroup"]
        lacks = [] if self.is_forum else ["topics"]
        if not self.bot_is_admin:
            return [*lacks, "admin"]
        return lacks + [r for r in NEEDED_RIGHTS if r not in self.rights]


class GroupNotReady(Conflict):
    code = "team_not_ready"

    def __init__(self, missing: list[str]) -> None:
        super().__init__("the group is not ready to be a team inbox", key="team.not_ready")
        self.missing = missing


@dataclass(frozen=True)
class Bound:
    scope: str
    office: str | None  # the office's name; None: the whole company
    moved_from: int | None  # the chat that was this scope's inbox before, if another


async def bind(
    session: AsyncSession,
    facts: GroupFacts,
    *,
    by: Actor,
    office_name: str | None,
    company: Company,
) -> Bound:
    """Make the group the inbox of `office_name`'s office (None: of the company). An admin's
    act; the group must be a forum where the bot manages topics, pins and deletes."""
    require_binder(by)
    if missing := facts.missing():
        raise GroupNotReady(missing)
    office: Office | None = None
    if office_name:
        # compared here, not in SQL: SQLite's lower() knows only ASCII ("Центр" vs "центр")
        wanted = office_name.strip().casefold()
        offices = (await session.execute(sa.select(Office))).scalars()
        office = next((o for o in offices if o.name.casefold() == wanted), None)
        if office is None:
            raise NotFound("no such office", key="team.no_office", name=office_name.strip())
    scope = f"office:{office.id}" if office else COMPANY_SCOPE
    now = company.clock.now()
    this = await session.scalar(sa.select(TeamInbox).where(TeamInbox.chat_id == facts.chat_id))
    same_scope = await session.scalar(sa.select(TeamInbox).where(TeamInbox.scope == scope))
    moved_from = same_scope.chat_id if same_scope and same_scope is not this else None
    if same_scope is not None and same_scope is not this:
        await session.delete(same_scope)  # the scope moves to this group
        await session.flush()
    if this is None:
        this = TeamInbox(chat_id=facts.chat_id, scope=scope, created_at=now)
        this.locale = by.locale or company.locale
        session.add(this)
    this.scope, this.office_id, this.title = scope, office.id if office else None, facts.title
    this.bound_by_id, this.updated_at = by.id, now
    await session.flush()
    await audit.log(
        session,
        action="team.bound",
        entity_type="team_inbox",
        entity_id=this.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        changes={"chat_id": facts.chat_id, "scope": scope, "moved_from": moved_from},
    )
    return Bound(scope, office.name if office else None, moved_from)


def require_binder(by: Actor | None) -> None:
    """Binding is an admin's act (checked before Telegram is asked anything)."""
    if by is None or by.role is not Role.ADMIN:
        raise AccessDenied("only an admin binds a team inbox", key="team.admins_only")


async def set_others_may_write(
    session: AsyncSession, chat_id: int, allowed: bool, *, by: Actor, company: Company
) -> None:
    """Whether employees other than a client's owner answer them from the topic."""
    if by.role not in (Role.ADMIN, Role.MANAGER):
        raise AccessDenied("only managers and admins change this", key="team.managers_only")
    inbox = await of_chat(session, chat_id)
    if by.role is Role.MANAGER and inbox.office_id not in (None, by.office_id):
        raise AccessDenied("another office's inbox", key="team.managers_only")
    inbox.others_may_write, inbox.updated_at = allowed, company.clock.now()


async def of_chat(session: AsyncSession, chat_id: int) -> TeamInbox:
    inbox = await session.scalar(sa.select(TeamInbox).where(TeamInbox.chat_id == chat_id))
    if inbox is None:
        raise NotFound("this group is not a team inbox", key="team.not_bound")
    return inbox


async def scopes(session: AsyncSession) -> dict[str, int]:
    """Every inbox: scope → chat id (a handful of rows; none in most installations)."""
    rows = (await session.execute(sa.select(TeamInbox.scope, TeamInbox.chat_id))).all()
    return {scope: chat_id for scope, chat_id in rows}


def pick(inboxes: dict[str, int], office_id: int | None) -> int | None:
    """The chat of the inbox for a client of `office_id`: their office's, else the company's."""
    if office_id is not None and f"office:{office_id}" in inboxes:
        return inboxes[f"office:{office_id}"]
    return inboxes.get(COMPANY_SCOPE)


def may_use(inbox: TeamInbox, by: Actor) -> bool:
    """An office's inbox is for that office's people (and admins); the company's for all."""
    return by.role is Role.ADMIN or inbox.office_id in (None, by.office_id)


def require_member(inbox: TeamInbox, by: Actor) -> None:
    if not may_use(inbox, by):
        raise AccessDenied("another office's inbox", key="team.other_office")
