"""The one aiohttp server: webhooks, the admin web, health and metrics, behind one error
middleware (domain errors and unreadable bodies as JSON 4xx, bugs logged and answered 500)."""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from admin_web import routes as admin_routes
from metrics import HTTP_REQUESTS
from services.errors import DomainError
from web_app import CONTAINER
from webhooks import calls, forms, health, mango, telegram, whatsapp
from webhooks.common import BadBody, bad_input, json_error

if TYPE_CHECKING:
    from app import Container

log = logging.getLogger("chatcrm")
MAX_BODY = 4 * 1024 * 1024  # WhatsApp batches reach 3 MB; aiohttp's default is 1 MiB


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except DomainError as exc:
        status = exc.http_status
        return json_error(exc.http_status, exc.code, exc.message)
    except BadBody as exc:  # any receiver's unreadable body: one JSON 4xx, nothing written
        status = exc.status
        return bad_input(exc)
    except web.HTTPException as exc:
        status = exc.status
        if exc.status >= 400 and not request.path.startswith("/admin"):
            return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal", "internal error; it has been logged")
    finally:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        HTTP_REQUESTS.labels(name, request.method, str(status)).observe(
            time.perf_counter() - started
        )


def build_web_app(container: Container) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY)
    app[CONTAINER] = container
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_post("/webhooks/telegram", telegram.receive)
    app.router.add_post("/webhooks/forms/{source}", forms.receive)
    app.router.add_post("/webhooks/mango/events/{event}", mango.receive)
    app.router.add_post("/webhooks/calls", calls.receive)
    app.router.add_get("/webhooks/whatsapp", whatsapp.verify)
    app.router.add_post("/webhooks/whatsapp", whatsapp.receive)
    admin_routes.setup(app)
    return app


class CannotListen(Exception):
    """The HTTP server could not bind its address (in use, not ours, no permission)."""


async def listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Bind the server's address; CannotListen (one line saying why) when it cannot."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        reason = _BIND_ERRORS.get(exc.errno or 0) or str(exc.strerror or exc).lower()
        raise CannotListen(f"cannot listen on {host}:{port}: {reason} (set HTTP_PORT)") from exc
    log.info("HTTP on http://%s:%s", host, port)


_BIND_ERRORS = {
    errno.EADDRINUSE: "address already in use",
    errno.EACCES: "permission denied",
    errno.EADDRNOTAVAIL: "address not available on this machine (set HTTP_HOST)",
}
