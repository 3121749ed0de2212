"""What a bulk change can move: each kind of record, its holder (owner or assignee), its office
if it has one, when it still counts as open, and what goes along with it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from models import Client, Conversation, Deal, DealStatus, Lead, LeadStatus, Task, TaskStatus


@dataclass(frozen=True)
class Kind:
    name: str  # bulk_operation_rows.entity_type, the outbox summary's key, the texts' key
    table: sa.Table
    holder: str  # the column naming whose it is
    office: str | None = None  # the column of its office, which follows the new holder

    @property
    def id(self) -> sa.Column[int]:
        return self.table.c.id

    @property
    def held_by(self) -> sa.Column[int | None]:
        return self.table.c[self.holder]

    def is_open(self) -> sa.ColumnElement[bool]:
        """Records that a change may move (and undo may put back)."""
        return _OPEN[self.name]()


@dataclass(frozen=True)
class Carried:
    """Records of `kind` that go along with the chosen ones: linked by `link` to one of them
    and held by the same person the chosen one was (or, `unheld`, by nobody)."""

    kind: Kind
    link: str
    unheld: bool = False


CLIENT = Kind("client", Client.__table__, "owner_id", "office_id")
DEAL = Kind("deal", Deal.__table__, "owner_id", "office_id")
TASK = Kind("task", Task.__table__, "assignee_id")
CONVERSATION = Kind("conversation", Conversation.__table__, "assignee_id")
LEAD = Kind("lead", Lead.__table__, "assignee_id", "office_id")
KINDS = {kind.name: kind for kind in (CLIENT, DEAL, TASK, CONVERSATION, LEAD)}
# How texts list them (notes, calls, tickets, messages: only deleted with what they hang on).
ORDER = (*KINDS, "call", "ticket", "message", "note")

_OPEN = {
    "client": lambda: Client.__table__.c.merged_into_id.is_(None),
    "deal": lambda: Deal.__table__.c.status == DealStatus.OPEN,
    "task": lambda: Task.__table__.c.status == TaskStatus.OPEN,
    "conversation": lambda: Conversation.__table__.c.is_open,
    # new or taken: a lead closed as non-target or spam stays whose it was
    "lead": lambda: Lead.__table__.c.status.in_((LeadStatus.NEW, LeadStatus.TARGET)),
}

# What goes along, by what is chosen. A conversation nobody was given answers through its
# lead's assignee; moving the client gives it to the new owner.
CARRIED = {
    "deal": {"task": Carried(TASK, "deal_id")},
    # A taken lead's deal (the one Take opened) and its call-back tasks.
    "lead": {"deal": Carried(DEAL, "lead_id"), "task": Carried(TASK, "lead_id", unheld=True)},
    "client": {
        "deal": Carried(DEAL, "client_id"),
        "task": Carried(TASK, "client_id"),
        "conversation": Carried(CONVERSATION, "client_id", unheld=True),
    },
}
