"""Tasks set by people: create (for oneself, or a manager for the office), done, snooze,
reassign, comment. Every change re-checks access, is audited, and edits the task's cards in
the chats they were sent to (services.notify)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Deal, Employee, Lead, Note, Task, TaskKind, TaskStatus
from services import access, audit, notify
from services.actors import Actor
from services.clients import visibility
from services.context import Company
from services.errors import AccessDenied, Conflict, InvalidInput, NotFound

TITLE_MAX = 500
COMMENT_MAX = 3000
WARN_MAX = 7 * 24 * 60  # an earlier warning at most a week before


async def create(
    session: AsyncSession,
    *,
    title: str,
    due_at: datetime,
    assignee_id: int,
    by: Actor | None,
    company: Company,
    client_id: int | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    warn_minutes: int | None = None,
) -> Task:
    """A task for `assignee_id`, due at `due_at` (aware, in the future), linked to a client
    (directly, or through the lead or deal). `by` None: an admin's script (the CLI). The
    assignee hears of it unless they set it themselves."""
    now = company.clock.now()
    text = _title(title)
    if due_at <= now:
        raise InvalidInput("the due time has passed", key="task.error.past")
    if warn_minutes is not None and not 0 < warn_minutes <= WARN_MAX:
        raise InvalidInput("the warning is out of range", key="task.error.warn")
    assignee = await session.get(Employee, assignee_id)
    if assignee is None or not assignee.is_active:
        raise NotFound("no such employee", key="task.error.no_employee", employee_id=assignee_id)
    if by is not None:
        access.require_give_task(by, to_id=assignee.id, to_office_id=assignee.office_id)
    client_id = await _client_of(session, client_id=client_id, lead_id=lead_id, deal_id=deal_id)
    if client_id is not None and by is not None:
        await visibility.require(session, client_id, by)
    warning = due_at - timedelta(minutes=warn_minutes) if warn_minutes else None
    task = Task(
        kind=TaskKind.GENERAL,
        title=text,
        status=TaskStatus.OPEN,
        due_at=due_at,
        remind_at=warning if warning is not None and warning > now else due_at,
        warn_minutes=warn_minutes,
        assignee_id=assignee.id,
        created_by_id=by.id if by else None,
        client_id=client_id,
        lead_id=lead_id,
        deal_id=deal_id,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    await session.flush()
    await _audit(session, "task.create", task, by, now, due_at=due_at.isoformat())
    if by is None or by.id != assignee.id:
        await notify.task_assigned(
            session,
            task_id=task.id,
            assignee_id=assignee.id,
            now=now,
            default_locale=company.locale,
        )
    return task


def clean_title(title: str) -> str:
    """The title as it is stored (spaces collapsed); InvalidInput if empty or too long."""
    return _title(title)


async def about(
    session: AsyncSession,
    *,
    by: Actor,
    client_id: int | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
) -> str | None:
    """What a task started from a card is about, as people call it (the client's name), after
    checking `by` may see that client; None for a task about nothing."""
    client_id = await _client_of(session, client_id=client_id, lead_id=lead_id, deal_id=deal_id)
    if client_id is None:
        return None
    client = await visibility.require(session, client_id, by)
    return client.name or f"#{client.id}"


async def complete(session: AsyncSession, task_id: int, *, by: Actor, company: Company) -> Task:
    """Done: no reminder of it fires any more. Pressing Done again changes nothing."""
    task = await _locked(session, task_id, by)
    if task.status is TaskStatus.DONE:
        return task
    _require_open(task)
    now = company.clock.now()
    task.status, task.done_at, task.remind_at, task.updated_at = TaskStatus.DONE, now, None, now
    await _audit(session, "task.done", task, by, now)
    await session.flush()
    await notify.task_changed(session, task_id=task.id, now=now)
    return task


async def snooze(
    session: AsyncSession, task_id: int, until: datetime, *, by: Actor, company: Company
) -> Task:
    """Remind again at `until`; the due time stays (an overdue task stays overdue)."""
    task = await _locked(session, task_id, by)
    _require_open(task)
    now = company.clock.now()
    if until <= now:
        raise InvalidInput("the time has passed", key="task.error.past")
    task.remind_at = task.snoozed_until = until
    task.updated_at = now
    await _audit(session, "task.snooze", task, by, now, until=until.isoformat())
    await session.flush()
    await notify.task_changed(session, task_id=task.id, now=now)
    return task


async def reassign(
    session: AsyncSession, task_id: int, to: int, *, by: Actor, company: Company
) -> Task:
    """A manager gives the task to someone else in the office; they get its card, the old
    copies show who has it now."""
    task = await session.get(Task, task_id, with_for_update=True)
    if task is None:
        raise NotFound("no such task", key="task.error.not_found", task_id=task_id)
    office_id = await _office_of(session, task.assignee_id)
    if not access.can_reassign_task(by, office_id=office_id):
        raise AccessDenied("only a manager may reassign", key="task.error.no_reassign")
    _require_open(task)
    employee = await session.get(Employee, to)
    if employee is None or not employee.is_active:
        raise NotFound("no such employee", key="task.error.no_employee", employee_id=to)
    access.require_give_task(by, to_id=employee.id, to_office_id=employee.office_id)
    if employee.id == task.assignee_id:
        return task
    now = company.clock.now()
    before = task.assignee_id
    task.assignee_id, task.updated_at = employee.id, now
    await _audit(session, "task.reassign", task, by, now, before=before, after=employee.id)
    await session.flush()
    await notify.task_changed(session, task_id=task.id, now=now)
    await notify.task_assigned(
        session, task_id=task.id, assignee_id=employee.id, now=now, default_locale=company.locale
    )
    return task


async def comment(
    session: AsyncSession, task_id: int, text: str, *, by: Actor, company: Company
) -> int:
    """A comment on the task (a note: also in its client's timeline). Returns the note's id."""
    body = text.strip()
    if not body:
        raise InvalidInput("an empty comment", key="note.empty")
    if len(body) > COMMENT_MAX:
        raise InvalidInput("the comment is too long", key="note.too_long", limit=COMMENT_MAX)
    task = await _locked(session, task_id, by)
    now = company.clock.now()
    note = Note(
        author_id=by.id,
        task_id=task.id,
        client_id=task.client_id,
        deal_id=task.deal_id,
        text=body,
        created_at=now,
        updated_at=now,
    )
    session.add(note)
    task.updated_at = now
    await session.flush()
    await _audit(session, "task.comment", task, by, now, note_id=note.id)
    await notify.task_changed(session, task_id=task.id, now=now)
    return note.id


async def reassign_candidates(
    session: AsyncSession, task_id: int, *, by: Actor, page: int = 0, size: int = 8
) -> tuple[list[tuple[int, str]], bool]:
    """Whom `by` may give the task to (active, with Telegram, of the assignee's office; not
    the assignee), by name, a page at a time; and whether there are more."""
    task = await session.get(Task, task_id)
    if task is None:
        raise NotFound("no such task", key="task.error.not_found", task_id=task_id)
    office_id = await _office_of(session, task.assignee_id)
    if not access.can_reassign_task(by, office_id=office_id):
        raise AccessDenied("only a manager may reassign", key="task.error.no_reassign")
    e = Employee.__table__
    stmt = sa.select(e.c.id, e.c.name, e.c.office_id).where(
        e.c.is_active, e.c.telegram_id.is_not(None)
    )
    if office_id is not None:
        stmt = stmt.where(e.c.office_id == office_id)
    if task.assignee_id is not None:
        stmt = stmt.where(e.c.id != task.assignee_id)
    rows = (await session.execute(stmt.order_by(e.c.name, e.c.id).limit(500))).all()
    people = [
        (r.id, r.name)
        for r in rows
        if access.can_give_task(by, to_id=r.id, to_office_id=r.office_id)
    ]
    page = max(page, 0)
    return people[page * size : (page + 1) * size], len(people) > (page + 1) * size


# --- inside


def _title(title: str) -> str:
    text = " ".join(title.split())
    if not text:
        raise InvalidInput("an empty title", key="task.error.no_title")
    if len(text) > TITLE_MAX:
        raise InvalidInput("the title is too long", key="task.error.long_title", limit=TITLE_MAX)
    return text


async def _client_of(
    session: AsyncSession, *, client_id: int | None, lead_id: int | None, deal_id: int | None
) -> int | None:
    """The client the task is about: given, or the lead's or deal's (which must agree)."""
    for model, record_id in ((Lead, lead_id), (Deal, deal_id)):
        if record_id is None:
            continue
        found = await session.scalar(sa.select(model.client_id).where(model.id == record_id))
        if found is None:
            raise NotFound("no such record", key="task.error.no_record")
        if client_id not in (None, found):
            raise InvalidInput("the records belong to different clients")
        client_id = found
    return client_id


async def require_may_act(session: AsyncSession, task_id: int, *, by: Actor) -> None:
    """The check done, snooze and comment make, for asking their details first."""
    task = await session.get(Task, task_id)
    if task is None:
        raise NotFound("no such task", key="task.error.not_found", task_id=task_id)
    office_id = await _office_of(session, task.assignee_id)
    access.require_task(by, assignee_id=task.assignee_id, office_id=office_id)


async def _locked(session: AsyncSession, task_id: int, by: Actor) -> Task:
    task = await session.get(Task, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise NotFound("no such task", key="task.error.not_found", task_id=task_id)
    office_id = await _office_of(session, task.assignee_id)
    access.require_task(by, assignee_id=task.assignee_id, office_id=office_id)
    return task


def _require_open(task: Task) -> None:
    if task.status is not TaskStatus.OPEN:
        raise Conflict("the task is closed", key="error.task_closed")


async def _office_of(session: AsyncSession, employee_id: int | None) -> int | None:
    if employee_id is None:
        return None
    return await session.scalar(sa.select(Employee.office_id).where(Employee.id == employee_id))


async def _audit(
    session: AsyncSession,
    action: str,
    task: Task,
    by: Actor | None,
    now: datetime,
    **data: object,
) -> None:
    await audit.log(
        session,
        action=action,
        entity_type="task",
        entity_id=task.id,
        at=now,
        actor_id=by.id if by else None,
        actor_kind="employee" if by else "admin",
        **data,
    )
