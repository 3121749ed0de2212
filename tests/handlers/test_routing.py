"""Routing stays cheap: aiogram runs a filter or handler that is a plain function in a worker
thread on every update that reaches it (handlers/filters.py), so none of ours may be one."""

from __future__ import annotations

from aiogram import Router

from handlers import get_routers


def _observers(router: Router):  # type: ignore[no-untyped-def]
    for observer in router.observers.values():
        yield router.name, observer
    for sub in router.sub_routers:
        yield from _observers(sub)


def test_every_filter_and_handler_is_awaited_in_place():
    threaded = []
    for top in get_routers():
        for name, observer in _observers(top):
            objects = [("root filter", f) for f in observer._handler.filters or []]
            for handler in observer.handlers:
                objects.append(("handler", handler))
                objects += [("filter", f) for f in handler.filters or []]
            threaded += [(name, kind, repr(o.callback)) for kind, o in objects if not o.awaitable]
    assert threaded == []
