"""aiogram routers: one per feature and audience, listed explicitly."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import errors, start
    from handlers.staff import leads

    return [errors.router, start.router, leads.router]
