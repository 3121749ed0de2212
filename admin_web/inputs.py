"""Typed inputs of the admin web: every form and query string is read into a pydantic model
before a view uses it. A value that does not fit is a domain error (InvalidInput, 422), which
the edge shows as a page saying what was wrong; nothing is written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from models import LeadStatus
from services.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)


class Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)


class LoginForm(Input):
    """Any text: a login that cannot be right is a wrong login, counted against its address
    like any other (services.web_sessions.log_in)."""

    login: str = ""
    password: str = ""


class PasswordForm(Input):
    current: str = ""
    new: str = ""
    repeated: str = ""


class LeadsQuery(Input):
    status: LeadStatus | None = None


def parse(model: type[Model], data: Mapping[str, str]) -> Model:
    """`data` as `read_form` or `request.query` gives it; empty fields are missing ones."""
    values = {k: v for k, v in data.items() if v != ""}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise InvalidInput(f"bad {fields}", key="web.bad_input", fields=fields) from None
