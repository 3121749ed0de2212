"""How every web edge (the webhooks, the admin web) reaches the wired application: one aiohttp
application key, set by the composition root (app.py), read by handlers and middlewares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from app import Container

CONTAINER: web.AppKey[Container] = web.AppKey("container")


def container_of(request: web.Request) -> Container:
    return request.app[CONTAINER]
