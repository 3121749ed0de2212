"""What every webhook receiver shares: JSON errors, secret checks, body parsing."""

from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import ValidationError


def json_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "message": message, **extra}, status=status)


def invalid_fields(error: ValidationError, code: str, message: str) -> web.Response:
    """422 listing each field pydantic refused, so the sender can see what to fix."""
    details = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()]
    return json_error(422, code, message, details=details)


def given_token(request: web.Request, fields: dict[str, Any] | None = None) -> str | None:
    """Our shared-secret convention: the `X-CRM-Token` header, `?token=`, or a `token` field."""
    token = request.headers.get("X-CRM-Token") or request.query.get("token")
    if token is None and fields is not None and isinstance(fields.get("token"), str):
        token = fields["token"].strip() or None
    return token


def secret_matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class BadBody(Exception):
    """The body could not be read in the content type it claims."""


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


async def read_fields(request: web.Request) -> dict[str, Any]:
    """A flat dict of fields from a JSON, urlencoded or multipart body (files are skipped)."""
    content_type = request.content_type
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = json.loads(await request.read() or b"{}", parse_constant=_no_constants)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadBody(f"body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BadBody("JSON body must be an object")
        return data
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form: MultiDictProxy[Any] = await request.post()
        except ValueError as exc:
            raise BadBody(f"form body could not be read: {exc}") from None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if not await request.read():
        return {}
    raise BadBody(f"unsupported content type {content_type!r}; send JSON or a form")
