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
