"""Routers for employees: everything here is reached only by an active employee (the router
filter), so handlers take a non-optional `actor`; strangers are answered in handlers.strangers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from handlers.router import Router
from services.actors import Actor


class IsEmployee(Filter):
    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None


def make_router() -> Router:
    from handlers.staff import (
        clients,
        conversations,
        deals,
        find,
        lead_lists,
        leads,
        merge,
        new_task,
        queue,
        reports,
        tasks,
        tickets,
    )

    router = Router(name="staff")
    router.message.filter(IsEmployee())
    router.callback_query.filter(IsEmployee())
    # Most pressed and typed first: every update passes the routers in front of its own.
    router.include_routers(
        conversations.make_reply_router(),  # a reply to a client's message: to the client
        tickets.make_reply_router(),  # a reply to a ticket's message: before search takes it
        find.make_router(),  # plain text outside dialogs (searches); commands pass it by
        clients.make_router(),
        deals.make_router(),
        leads.make_router(),
        lead_lists.make_router(),
        merge.make_router(),
        tasks.make_router(),
        new_task.make_router(),
        tickets.make_router(),
        queue.make_router(),
        reports.make_router(),
        conversations.make_router(),
    )
    return router
