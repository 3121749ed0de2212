"""The router every handler module uses: aiogram's, passed by at once for an update type that
nothing in it handles.

aiogram offers every update to each router in turn until one handles it, and a visit costs
CPU even where there is nothing to find (middleware wrappers, the router's own filters, the
walk through its sub-routers): a button press went through the command routers (start, menu,
the inline-mode link router) before reaching the staff buttons. Here a router answers
"unhandled" straight away for an update type none of its handlers, outer middlewares or
sub-routers' handlers take. What a router takes is read at its first update, once the
dispatcher is assembled (handlers are registered when routers are built, never later).
"""

from __future__ import annotations

from typing import Any

import aiogram
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject


class Router(aiogram.Router):
    _takes: frozenset[str] | None = None

    def takes(self) -> frozenset[str]:
        """The update types something in this router (or its sub-routers) may act on."""
        if self._takes is None:
            self._takes = frozenset(
                name
                for router in self.chain_tail
                for name, observer in router.observers.items()
                if observer.handlers or len(observer.outer_middleware)
            )
        return self._takes

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        if update_type not in self.takes():
            return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)
