"""`GET /healthz` and `GET /metrics`."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from web_app import container_of


async def healthz(request: web.Request) -> web.Response:
    container = container_of(request)
    db_ok = await container.db.ping()
    redis_state = "off"
    if container.redis is not None:
        try:
            await asyncio.wait_for(container.redis.ping(), 2)
            redis_state = "ok"
        except Exception:
            redis_state = "down"
    healthy = db_ok and redis_state != "down"  # a configured Redis holds state and limits
    body = {
        "status": "ok" if healthy else "down",
        "db": "ok" if db_ok else "down",
        "redis": redis_state,
        # The bot never makes the process unhealthy: intake works while Telegram is away.
        "bot": container.bot_state,
    }
    return web.json_response(body, status=200 if healthy else 503)


async def metrics(_request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
