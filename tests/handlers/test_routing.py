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


def _routers(router: Router):  # type: ignore[no-untyped-def]
    yield router
    for sub in router.sub_routers:
        yield from _routers(sub)


def test_every_router_is_passed_by_for_updates_it_does_not_take():
    from handlers.router import Router as Lean

    tops = get_routers()
    assert [r.name for top in tops for r in _routers(top) if not isinstance(r, Lean)] == []
    takes = {top.name: top.takes() for top in tops}
    # A button press goes straight past the command routers to the staff buttons.
    for name in ("find.links", "start", "menu"):
        assert "callback_query" not in takes[name], name
    assert {"message", "callback_query", "inline_query"} <= takes["staff"] | takes["find.links"]
    assert takes["errors"] == {"error"}


async def test_a_passed_router_answers_unhandled_without_looking_inside(monkeypatch):
    from aiogram.dispatcher.event.bases import UNHANDLED

    from handlers.router import Router as Lean

    router = Lean(name="commands only")

    @router.message()
    async def never(*_: object) -> None:  # pragma: no cover - a press is not a message
        raise AssertionError

    visited = []
    monkeypatch.setattr(Router, "propagate_event", lambda *a, **k: visited.append(a))
    assert await router.propagate_event("callback_query", object()) is UNHANDLED
    assert visited == []
