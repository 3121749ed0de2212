"""Lists of leads an employee works from Telegram, a page at a time: "my new leads" (new,
assigned to me, newest first) and, for managers and admins, the office's new leads nobody has
taken yet (oldest first, with their age); and whom a manager may reassign a lead to (those on
shift first). Each page is one query on an index (`ix_leads_assignee_status`, and
`ix_leads_new` of new leads only) that also counts the whole list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, Lead, LeadStatus, Role
from models.prepared import Prepared
from services import access, assignment
from services.access import HasRole
from services.context import Company
from services.errors import Conflict, NotFound

PAGE_SIZE = 8
_NEW = LeadStatus.NEW.value
_L, _E = Lead.__table__, Employee.__table__


@dataclass(frozen=True)
class LeadItem:
    id: int
    created_at: datetime
    name: str | None
    contact: str | None  # phone, the phone as typed, or e-mail
    source: str
    assignee: str | None


@dataclass(frozen=True)
class LeadPage:
    items: list[LeadItem]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max((self.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


async def my_new(session: AsyncSession, *, by: HasRole, page: int = 0) -> LeadPage:
    """The new leads assigned to `by`, newest first."""
    return await _page(session, _statement("mine"), {"assignee_id": by.id}, page)


async def office_untaken(session: AsyncSession, *, by: HasRole, page: int = 0) -> LeadPage:
    """The new leads of `by`'s office (and office-less ones) nobody has taken, assigned or
    not, oldest first; an admin (or a manager without an office) sees every office's."""
    access.require_queue(by)
    if by.role is not Role.ADMIN and by.office_id is not None:
        return await _page(session, _statement("office"), {"office_id": by.office_id}, page)
    return await _page(session, _statement("all"), {}, page)


async def _page(
    session: AsyncSession, statement: Prepared, params: dict[str, object], page: int
) -> LeadPage:
    """One page and the count of all, in one query; a page that emptied meanwhile gives the
    last page there is (a second query, rare)."""
    rows = await statement.all(session, params | {"skip": page * PAGE_SIZE})
    if not rows and page > 0:
        rows = await statement.all(session, params | {"skip": 0})
        if rows:
            page = (rows[0].total - 1) // PAGE_SIZE
            rows = await statement.all(session, params | {"skip": page * PAGE_SIZE})
        else:
            page = 0
    items = [LeadItem(r.id, r.created_at, r.name, r.contact, r.source, r.assignee) for r in rows]
    return LeadPage(items, rows[0].total if rows else 0, page)


@cache  # one per list: "mine" (`:assignee_id`), "office" (`:office_id`), "all"
def _statement(which: str) -> Prepared:
    """A page (`:skip`) of the list, each row with the count of the whole list."""
    # 'new' written into the SQL, not bound: a generic plan (a prepared statement reused) can
    # only use the partial index of new leads (ix_leads_new) if it sees the very value.
    where: list[sa.ColumnElement[bool]] = [_L.c.status == sa.literal_column(f"'{_NEW}'")]
    if which == "mine":
        where.append(_L.c.assignee_id == sa.bindparam("assignee_id", type_=sa.BigInteger))
    elif which == "office":
        office_id = sa.bindparam("office_id", type_=sa.BigInteger)
        where.append(sa.or_(_L.c.office_id.is_(None), _L.c.office_id == office_id))
    return Prepared(
        sa.select(
            _L.c.id,
            _L.c.created_at,
            _L.c.name,
            sa.func.coalesce(_L.c.phone, _L.c.raw_phone, _L.c.email).label("contact"),
            _L.c.source,
            _E.c.name.label("assignee"),
            # Counted apart (run once), so the page itself still stops after PAGE_SIZE rows
            # of the index instead of reading the whole list (a window count would).
            sa.select(sa.func.count())
            .select_from(_L)
            .where(*where)
            .correlate(None)
            .scalar_subquery()
            .label("total"),
        )
        .outerjoin(_E, _E.c.id == _L.c.assignee_id)
        .where(*where)
        .order_by(_L.c.id.desc() if which == "mine" else _L.c.id)
        .offset(sa.bindparam("skip", type_=sa.Integer))
        .limit(PAGE_SIZE)
    )


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    on_shift: bool  # on duty now by the shift toggle and the work schedule


@dataclass(frozen=True)
class CandidatePage:
    lead_id: int
    people: list[Candidate]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max((self.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


async def reassign_candidates(
    session: AsyncSession, lead_id: int, *, by: HasRole, company: Company, page: int = 0
) -> CandidatePage:
    """Whom `by` may give the lead to: the active employees and managers (with Telegram) of
    the lead's office, those on shift now first, then the others; not its assignee."""
    lead = (
        await session.execute(
            sa.select(_L.c.office_id, _L.c.assignee_id, _L.c.status).where(_L.c.id == lead_id)
        )
    ).one_or_none()
    if lead is None:
        raise NotFound("no such lead", lead_id=lead_id)
    access.require_reassign(by, office_id=lead.office_id)
    if lead.status not in (LeadStatus.NEW, LeadStatus.TARGET):
        raise Conflict("lead already processed", lead_id=lead_id, status=lead.status.value)
    office_id = lead.office_id if lead.office_id is not None else by.office_id
    rows = await _colleagues(session, office_id, leaving_out=lead.assignee_id)
    rows = [
        r
        for r in rows
        if access.can_assign_lead(by, office_id=lead.office_id, to_office_id=r.office_id)
    ]
    now = company.clock.now()
    working = [r.id for r in rows if r.on_shift]
    on_duty = await assignment.inside_schedule(session, working, now=now, timezone=company.timezone)
    people = sorted(
        (Candidate(r.id, r.name, r.id in on_duty) for r in rows),
        key=lambda c: (not c.on_shift, c.name.casefold(), c.id),
    )
    page = min(page, max((len(people) - 1) // PAGE_SIZE, 0))
    shown = people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    return CandidatePage(lead_id, shown, len(people), page)


async def _colleagues(
    session: AsyncSession, office_id: int | None, *, leaving_out: int | None
) -> list[sa.Row]:
    stmt = sa.select(_E.c.id, _E.c.name, _E.c.office_id, _E.c.on_shift).where(
        _E.c.is_active,
        _E.c.telegram_id.is_not(None),
        _E.c.role.in_((Role.EMPLOYEE, Role.MANAGER)),
    )
    if office_id is not None:
        stmt = stmt.where(_E.c.office_id == office_id)
    if leaving_out is not None:
        stmt = stmt.where(_E.c.id != leaving_out)
    return list((await session.execute(stmt.limit(500))).all())


__all__ = [
    "PAGE_SIZE",
    "Candidate",
    "CandidatePage",
    "LeadItem",
    "LeadPage",
    "my_new",
    "office_untaken",
    "reassign_candidates",
]
