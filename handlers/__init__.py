"""aiogram routers: one per feature and audience, listed explicitly."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Fresh routers each call (a router can belong to one dispatcher only)."""
    from handlers import errors, staff, start, strangers
    from handlers.staff import find

    return [
        errors.make_router(),
        find.make_link_router(),  # before start: `/start client_<id>` is not an invite code
        start.make_router(),
        staff.make_router(),
        strangers.make_router(),
    ]
