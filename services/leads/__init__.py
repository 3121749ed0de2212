"""Leads: registering them (`intake`), acting on them (take, reject, assign), the queue of
unassigned ones (`queue`) and what a card shows about one (`cards`).

Callers outside the package use this surface: `leads.take(...)`, `leads.register_many(...)`,
`leads.cards.load(...)`, `leads.queue.hand_out(...)`, `leads.lists.my_new(...)`,
`leads.reasons.of(status)`.
"""

from services.leads import cards, inputs, intake, lists, queue, reasons
from services.leads.actions import (
    Assigned,
    assign,
    closing_reasons,
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
    "closing_reasons",
    "inputs",
    "intake",
    "lists",
    "open_card",
    "queue",
    "reasons",
    "register_incoming",
    "register_many",
    "reject",
    "take",
]
