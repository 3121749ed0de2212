"""Who performs an action, as services need to know them (every channel builds one)."""

from __future__ import annotations

from dataclasses import dataclass

from models import Employee, Role


@dataclass(frozen=True)
class Actor:
    """The employee performing an action."""

    id: int
    role: Role
    office_id: int | None
    name: str
    locale: str | None = None

    @classmethod
    def of(cls, employee: Employee) -> Actor:
        return cls(employee.id, employee.role, employee.office_id, employee.name, employee.locale)
