"""Access rules, checked by services on every action whatever the channel."""

from __future__ import annotations

from typing import Protocol

from models import Role
from services.errors import AccessDenied


class HasRole(Protocol):
    id: int
    role: Role
    office_id: int | None


def can_act_on_lead(by: HasRole, *, assignee_id: int | None, office_id: int | None) -> bool:
    """The assignee, a manager of the lead's office (any manager for an office-less lead),
    or an admin."""
    if by.role is Role.ADMIN or by.id == assignee_id:
        return True
    return by.role is Role.MANAGER and (office_id is None or by.office_id == office_id)


def require_lead_action(by: HasRole, *, assignee_id: int | None, office_id: int | None) -> None:
    if not can_act_on_lead(by, assignee_id=assignee_id, office_id=office_id):
        raise AccessDenied("only the assignee or a manager of the office may do this")


def can_manage_queue(by: HasRole) -> bool:
    """Managers and admins see the queue of unassigned leads and hand leads out."""
    return by.role in (Role.MANAGER, Role.ADMIN)


def require_queue(by: HasRole) -> None:
    if not can_manage_queue(by):
        raise AccessDenied("only managers and admins see the queue", key="queue.no_access")


def can_assign_lead(by: HasRole, *, office_id: int | None, to_office_id: int | None) -> bool:
    """An admin gives any lead to anyone; a manager gives their office's (or an office-less)
    lead to someone of their office (a manager without an office: to anyone)."""
    if by.role is Role.ADMIN:
        return True
    if by.role is not Role.MANAGER or office_id not in (None, by.office_id):
        return False
    return by.office_id is None or to_office_id in (None, by.office_id)


def can_reassign_lead(by: HasRole, *, office_id: int | None) -> bool:
    """Who gets the Reassign button on a lead card: an admin, or a manager of the lead's
    office (any manager for an office-less lead)."""
    if by.role is Role.ADMIN:
        return True
    return by.role is Role.MANAGER and office_id in (None, by.office_id)


def require_reassign(by: HasRole, *, office_id: int | None) -> None:
    if not can_reassign_lead(by, office_id=office_id):
        raise AccessDenied(
            "only an admin or a manager of the office may reassign this lead",
            key="queue.no_assign_access",
        )


def require_assign(by: HasRole, *, office_id: int | None, to_office_id: int | None) -> None:
    if not can_assign_lead(by, office_id=office_id, to_office_id=to_office_id):
        raise AccessDenied(
            "only an admin or a manager of the office may give this lead to this employee",
            key="queue.no_assign_access",
        )


def can_merge_clients(by: HasRole) -> bool:
    """Managers (within the clients they see: their office's) and admins merge duplicates."""
    return by.role in (Role.MANAGER, Role.ADMIN)


def require_merge_clients(by: HasRole) -> None:
    if not can_merge_clients(by):
        raise AccessDenied("only managers and admins merge clients", key="merge.error.no_access")


def can_act_on_deal(by: HasRole, *, owner_id: int | None, office_id: int | None) -> bool:
    """The deal's owner, a manager of the deal's office (a manager without an office, or any
    manager for an office-less deal), or an admin."""
    if by.role is Role.ADMIN or by.id == owner_id:
        return True
    if by.role is not Role.MANAGER:
        return False
    return by.office_id is None or office_id is None or by.office_id == office_id


def require_deal(by: HasRole, *, owner_id: int | None, office_id: int | None) -> None:
    if not can_act_on_deal(by, owner_id=owner_id, office_id=office_id):
        raise AccessDenied(
            "only the owner or a manager of the office may do this", key="deal.no_access"
        )


def can_see_employee_deals(
    by: HasRole, *, employee_office_id: int | None, employee_id: int
) -> bool:
    """Oneself; a manager the employees of their office (all, without an office); an admin all."""
    if by.role is Role.ADMIN or by.id == employee_id:
        return True
    return by.role is Role.MANAGER and by.office_id in (None, employee_office_id)


def can_see_office_deals(by: HasRole) -> bool:
    """Managers see their office's deals (all, without an office); admins all deals."""
    return by.role in (Role.MANAGER, Role.ADMIN)


# --- Tasks (issue 14): the lead rules, for the task's assignee and their office.


def can_act_on_task(by: HasRole, *, assignee_id: int | None, office_id: int | None) -> bool:
    """Done, snooze, comment: the assignee, a manager of the assignee's office (any manager for
    an unassigned task or one without an office), or an admin."""
    return can_act_on_lead(by, assignee_id=assignee_id, office_id=office_id)


def require_task(by: HasRole, *, assignee_id: int | None, office_id: int | None) -> None:
    if not can_act_on_task(by, assignee_id=assignee_id, office_id=office_id):
        raise AccessDenied(
            "only the assignee or a manager of the office may do this", key="task.error.no_access"
        )


def can_give_task(by: HasRole, *, to_id: int, to_office_id: int | None) -> bool:
    """Who may set a task for someone: anyone for themselves, a manager for their office's
    people (for anyone, without an office), an admin for anyone."""
    if by.role is Role.ADMIN or by.id == to_id:
        return True
    return by.role is Role.MANAGER and by.office_id in (None, to_office_id)


def can_reassign_task(by: HasRole, *, office_id: int | None) -> bool:
    """The Reassign button: an admin, or a manager of the assignee's office."""
    return can_reassign_lead(by, office_id=office_id)


def require_give_task(by: HasRole, *, to_id: int, to_office_id: int | None) -> None:
    if not can_give_task(by, to_id=to_id, to_office_id=to_office_id):
        raise AccessDenied(
            "only a manager of the office may set tasks for others", key="task.error.not_yours"
        )


def office_limit(by: HasRole) -> int | None:
    """The office the admin web's lists of `by` are limited to: a manager's own; an admin's
    none (the web panel lets only these two in)."""
    return by.office_id if by.role is Role.MANAGER else None


def can_read_audit(by: HasRole) -> bool:
    """The audit and sign-in logs are the admins' (they name people of every office)."""
    return by.role is Role.ADMIN


def can_change_in_bulk(by: HasRole) -> bool:
    """Bulk changes in the admin web: admins (every record), managers (their office's)."""
    return by.role in (Role.ADMIN, Role.MANAGER)


def can_delete_in_bulk(by: HasRole) -> bool:
    """Deleting records in bulk: admins only (a manager reassigns, closes or marks them)."""
    return by.role is Role.ADMIN


def require_delete_in_bulk(by: HasRole) -> None:
    if not can_delete_in_bulk(by):
        raise AccessDenied("only admins delete in bulk", key="web.not_found")


def require_bulk(by: HasRole) -> None:
    """Bulk changes, imports and the lists made for them: a 404 for anyone else (as if the
    page were not there)."""
    if not can_change_in_bulk(by):
        raise AccessDenied("only admins and managers work in bulk", key="web.not_found")


def can_give_in_bulk(by: HasRole, *, to_office_id: int | None) -> bool:
    """Whom records may be given to in bulk: anyone for an admin (and for a manager without
    an office); for a manager, someone of their office (or of none)."""
    if by.role is Role.ADMIN:
        return True
    if by.role is not Role.MANAGER:
        return False
    return by.office_id is None or to_office_id in (None, by.office_id)


def require_give_in_bulk(by: HasRole, *, to_office_id: int | None) -> None:
    if not can_give_in_bulk(by, to_office_id=to_office_id):
        raise AccessDenied(
            "records may be given only to someone of your office", key="bulk.not_your_office"
        )


def can_see_bulk(by: HasRole, *, actor_id: int) -> bool:
    """A bulk operation (and its undo) is its author's, and every admin's."""
    return sees_every_bulk(by) or (by.id == actor_id and can_change_in_bulk(by))


def sees_every_bulk(by: HasRole) -> bool:
    return by.role is Role.ADMIN


def can_edit_settings(by: HasRole) -> bool:
    """Pipelines and the company's other settings are the admins'."""
    return by.role is Role.ADMIN
