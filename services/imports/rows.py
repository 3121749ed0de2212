"""One row of an uploaded list read with the columns' mapping: a client's name, company, a
contact person and their position, normalised phones and e-mails, tags; or why the row cannot
be used."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from models import Channel
from models.text import fold
from services.clients import matching
from services.clients.identities import normalize_email, normalize_phone
from services.errors import DomainError
from services.imports.common import COMPANY_MAX, NAME_MAX, POSITION_MAX, TAG_MAX
from services.imports.reading import FIELDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parsed:
    """One row read with the mapping: what it says, or why it cannot be used."""

    name: str | None  # as typed (None: no name column, or a blank cell)
    company: str | None
    identities: list[matching.Identity]
    tags: list[str]
    reason: str | None = None  # a locale key's last part, and its value after ":"
    contact: str | None = None  # a contact person of the client (a company's employee)
    position: str | None = None  # the contact person's

    @property
    def title(self) -> str | None:
        """What a new client is called: the name, else the company, else the contact."""
        return self.name or self.company or self.contact


def grouped(mapping: dict[str, str]) -> bool:
    """Whether the rows of one company make one client: a column is mapped as the contact
    person (the client is then the company, each row one of its people)."""
    return "contact" in mapping.values()


def group_of(row: Parsed) -> str | None:
    """The company a row belongs with (case, ё and spaces aside); None: a client of its own."""
    return fold(row.company) if row.company else None


def parse_row(cells: list[str], mapping: dict[str, str], region: str) -> Parsed:
    values: dict[str, list[str]] = {field: [] for field in FIELDS}
    for index, field in mapping.items():
        if field in values and index.isascii() and index.isdigit() and int(index) < len(cells):
            if cells[int(index)].strip():
                values[field].append(cells[int(index)].strip())
    name = " ".join(" ".join(values["name"]).split())[:NAME_MAX] or None
    company = " ".join(" ".join(values["company"]).split())[:COMPANY_MAX] or None
    contact = " ".join(" ".join(values["contact"]).split())[:NAME_MAX] or None
    position = " ".join(" ".join(values["position"]).split())[:POSITION_MAX] or None
    identities: list[matching.Identity] = []
    for raw in _split(values["phone"]):
        try:
            identities.append((Channel.PHONE, normalize_phone(raw[:100], region)))
        except DomainError:
            return Parsed(name, company, [], [], f"bad_phone:{raw[:60]}")
    for raw in _split(values["email"]):
        try:
            identities.append((Channel.EMAIL, normalize_email(raw[:320])))
        except DomainError:
            return Parsed(name, company, [], [], f"bad_email:{raw[:60]}")
    tags = sorted({t[:TAG_MAX] for t in _split(values["tag"], ",;")})
    if not (name or company or contact or identities):
        return Parsed(None, None, [], [], "empty")
    unique = list(dict.fromkeys(identities))
    return Parsed(name, company, unique, tags, contact=contact, position=position)


def _split(values: list[str], separators: str = ",;") -> list[str]:
    parts = []
    for value in values:
        for sep in separators[1:]:
            value = value.replace(sep, separators[0])
        parts += [p.strip() for p in value.split(separators[0]) if p.strip()]
    return parts


def _within(match: matching.ResolvedClient, office_id: int | None) -> bool:
    """Whether an import limited to `office_id` (a manager's) may touch the client: its office,
    else its owner's, is that one (None: an admin's import, every client)."""
    if office_id is None:
        return True
    office = match.office_id or (match.owner.office_id if match.owner else None)
    return office == office_id
