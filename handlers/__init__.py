"""aiogram routers: one per feature and audience, listed explicitly."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Fresh routers each call (a router can belong to one dispatcher only)."""
    from handlers import clients_chat, errors, menu, staff, start, strangers, team
    from handlers.staff import find

    # An update visits the routers in this order until one handles it (each visit costs CPU).
    return [
        strangers.make_former_router(),  # former employees: "no access", before anything else
        team.make_router(),  # every group message: the team inbox's (nothing else is for groups)
        find.make_link_router(),  # before start: `/start client_<id>` is not an invite code
        start.make_router(),
        menu.make_router(),  # /help, /cancel in any dialog state
        staff.make_router(),
        clients_chat.make_router(),  # anyone else who writes is a client
        strangers.make_router(),
        errors.make_router(),  # an error is propagated on its own: last, no update visits it
    ]
