"""What every webhook receiver shares: JSON errors, secret checks, and the one safe body reader.

Every receiver reads its body through `parse_json` / `read_fields` / `read_form`, which turn
anything hostile into `BadBody` before a value can reach a service or the database:
invalid UTF-8, JSON nested deeper than `MAX_DEPTH`, NaN/Infinity and overflowing floats,
integers beyond 64 bits, NUL characters and lone surrogates (PostgreSQL refuses both in text
and JSONB). `BadBody` carries its own HTTP status; `webhooks.server.error_middleware`
answers it with `bad_input` as a JSON 4xx, so no receiver maps these errors itself.
"""

from __future__ import annotations

import hmac
import json
from typing import Any, Literal

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy
from pydantic import ValidationError

from services.bounds import INT64_MAX, INT64_MIN

# No provider we speak nests deeper than a handful of levels; deeper input is an attack.
MAX_DEPTH = 32


def json_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "message": message, **extra}, status=status)


def invalid_fields(error: ValidationError, code: str, message: str) -> web.Response:
    """422 listing each field pydantic refused, so the sender can see what to fix."""
    details = [
        {"field": ".".join(map(str, e["loc"]))[:200], "message": e["msg"][:500]}
        for e in error.errors(include_url=False, include_input=False)[:20]
    ]
    return json_error(422, code, message, details=details)


def given_token(request: web.Request, fields: dict[str, Any] | None = None) -> str | None:
    """Our shared-secret convention: the `X-CRM-Token` header, `?token=`, or a `token` field."""
    token = request.headers.get("X-CRM-Token") or request.query.get("token")
    if token is None and fields is not None and isinstance(fields.get("token"), str):
        token = fields["token"].strip() or None
    return token


def secret_matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode()
    )


class BadBody(Exception):
    """The body could not be read in the content type it claims (or holds what can't be kept)."""

    status, code = 400, "bad_body"

    def __init__(self, message: str) -> None:
        super().__init__(message[:300])


class OutOfRange(BadBody):
    """Well-formed JSON with a number no field can hold (beyond 64 bits, not finite)."""

    status, code = 422, "out_of_range"


def bad_input(exc: BadBody) -> web.Response:
    """The one answer to unreadable input: a JSON 4xx, nothing written."""
    return json_error(exc.status, exc.code, str(exc))


BigInts = Literal["reject", "text"]


def parse_json(raw: bytes | str, *, big_ints: BigInts = "reject") -> Any:
    """JSON from an untrusted body, cleaned (see the module docstring).

    `big_ints="text"` keeps numbers beyond 64 bits (and floats beyond a double) as their
    digits instead of refusing the body: for site forms, where such a number is only ever an
    unused field kept on the lead.
    """
    as_text = big_ints == "text"
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadBody("body is not valid UTF-8") from None
    try:
        data = json.loads(
            text,
            parse_constant=_no_constants,
            parse_float=_float_or_text if as_text else _finite_float,
            parse_int=_int64_or_text if as_text else _int64,
        )
    except RecursionError:
        raise BadBody(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise BadBody(f"body is not valid JSON: {exc}") from None
    return clean(data)


def clean(value: Any, depth: int = 0) -> Any:
    """`value` with NUL removed and lone surrogates replaced in every string (keys too);
    BadBody when it nests deeper than MAX_DEPTH."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        raise BadBody(f"JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {clean_text(str(k)): clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v, depth + 1) for v in value]
    return value


def clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise OutOfRange(f"number {literal[:40]} is out of range")
    return value


def _int64(literal: str) -> int:
    value = int(literal) if len(literal) <= 20 else None
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        raise OutOfRange(f"integer {literal[:40]} does not fit in 64 bits")
    return value


def _float_or_text(literal: str) -> float | str:
    try:
        return _finite_float(literal)
    except OutOfRange:
        return literal


def _int64_or_text(literal: str) -> int | str:
    try:
        return _int64(literal)
    except OutOfRange:
        return literal


async def read_form(request: web.Request, *, exact: bool = False) -> dict[str, str]:
    """Text fields of a urlencoded or multipart body (files skipped; a repeated key: the last).

    `exact` leaves the values as received (for a signature over them); clean them before use.
    """
    return dict(await read_form_pairs(request, exact=exact))


async def read_form_pairs(request: web.Request, *, exact: bool = False) -> list[tuple[str, str]]:
    """Every text field of a urlencoded or multipart body, repeated keys included (ticked
    rows), in order; files skipped."""
    try:
        form: MultiDictProxy[Any] = await request.post()
    # ValueError: bad encoding or broken multipart; LookupError: an unknown `charset`;
    # HttpProcessingError: a part's headers are malformed; AssertionError: aiohttp's
    # multipart reader asserts on some malformed parts.
    except (ValueError, LookupError, HttpProcessingError, AssertionError) as exc:
        raise BadBody(f"form body could not be read: {exc!r}") from None
    pairs = [(k, v) for k, v in form.items() if isinstance(v, str)]
    return pairs if exact else [(clean_text(k), clean_text(v)) for k, v in pairs]


async def read_fields(request: web.Request, *, big_ints: BigInts = "reject") -> dict[str, Any]:
    """A flat dict of fields from a JSON, urlencoded or multipart body (files are skipped)."""
    content_type = request.content_type
    if content_type == "application/json" or content_type.endswith("+json"):
        data = parse_json(await request.read() or b"{}", big_ints=big_ints)
        if not isinstance(data, dict):
            raise BadBody("JSON body must be an object")
        return data
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return await read_form(request)
    if not await request.read():
        return {}
    raise BadBody(f"unsupported content type {content_type[:100]!r}; send JSON or a form")
