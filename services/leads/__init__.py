"""Leads: registering them (`intake`), acting on them (take, reject, assign), the queue of
unassigned ones (`queue`) and what a card shows about one (`cards`).

Callers outside the package use this surface: `leads.take(...)`, `leads.register_many(...)`,
`leads.cards.load(...)`, `leads.queue.hand_out(...)`.
"""

from services.leads import cards, inputs, intake, queue
from services.leads.actions import (
    Assigned,
    assign,
    open_card,
    reject,
    take,
)
from services.leads.inputs import LeadIn
from services.leads.intake import Incoming, IntakeResult, register_incoming, register_many

__all__ = [
    "Assigned",
    "Incoming",
    "IntakeResult",
    "LeadIn",
    "assign",
    "cards",
    "inputs",
    "intake",
    "open_card",
    "queue",
    "register_incoming",
    "register_many",
    "reject",
    "take",
]
