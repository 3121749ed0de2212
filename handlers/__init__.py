"""aiogram routers: one per feature and audience, listed explicitly."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Fresh routers each call (a router can belong to one dispatcher only)."""
    from handlers import errors, start
    from handlers.staff import leads, tasks

    return [errors.make_router(), start.make_router(), leads.make_router(), tasks.make_router()]
