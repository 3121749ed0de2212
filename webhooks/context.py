"""How receivers reach the wired application (settings, database, company values)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from app import Container

CONTAINER: web.AppKey[Container] = web.AppKey("container")


def container_of(request: web.Request) -> Container:
    return request.app[CONTAINER]
