"""Clients: finding or creating one person from any identity (`matching`), normalising phones
and e-mails (`identities`), the one history every card reads (`timeline`), the client card
(`profile`), creating and editing by hand (`editing`), who sees whom (`visibility`) and what
call and task cards show about a client (`cards`)."""

from services.clients import cards, editing, history, identities, profile, timeline
from services.clients.matching import (
    Identity,
    NewClient,
    Owner,
    ResolvedClient,
    Seen,
    best_match,
    create_many,
    find,
    find_many,
    resolve_or_create,
    search_text_of,
    set_owner_if_unowned,
    update_seen,
    update_seen_many,
)

__all__ = [
    "Identity",
    "NewClient",
    "Owner",
    "ResolvedClient",
    "Seen",
    "best_match",
    "cards",
    "create_many",
    "editing",
    "find",
    "find_many",
    "history",
    "identities",
    "profile",
    "resolve_or_create",
    "search_text_of",
    "set_owner_if_unowned",
    "timeline",
    "update_seen",
    "update_seen_many",
]
