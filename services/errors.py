"""Typed errors for problems a user caused. Each carries a locale key and parameters;
adapters map them once to a localized reply, a JSON 4xx or a CLI message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """`message` is for logs and API clients; `key` names the locale text users see."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, key: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.key = key or f"error.{self.code}"
        self.params = params


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 422


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class AccessDenied(DomainError):
    code = "access_denied"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


class InvalidEmail(InvalidInput):
    code = "invalid_email"
