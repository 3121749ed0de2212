"""What an incoming request may carry, whatever the channel: `LeadIn`, with the caps that keep
an oversized field from costing the lead (intake registers it; see services.leads.intake)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.lead import UTM_FIELDS

# How much of each field a lead keeps (the lead's column sizes). A longer value is cut at its
# cap and the lead gets a `truncated:<field>` warning: the request is never refused for being
# long, so the visitor's phone is never thrown away with an oversized name.
FIELD_CAPS = {
    "source": 100,
    "name": 300,
    "phone": 100,
    "email": 320,
    "comment": 10_000,
    "form_name": 200,
    "landing_url": 2000,
    "office": 200,
    "line_number": 32,
}
UTM_CAP = 300
# Other fields are kept on the lead as `extra`, within these bounds.
EXTRA_KEYS, EXTRA_KEY_CAP, EXTRA_VALUE_CAP = 100, 100, 2000


class LeadIn(BaseModel):
    """An incoming request, whatever the channel that brought it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    source: str = Field(min_length=1)
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    comment: str | None = None
    form_name: str | None = None
    landing_url: str | None = None
    office: str | None = None
    line_number: str | None = None  # the line that was called
    utm: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    truncated: list[str] = Field(default_factory=list)  # fields cut at their cap

    @model_validator(mode="before")
    @classmethod
    def _fit(cls, data: Any) -> Any:
        # NUL can't be stored in PostgreSQL text or JSONB; it is never meant in a form.
        data = _strip_nul(data)
        return _capped(data) if isinstance(data, dict) else data

    @field_validator("name", "phone", "email", "comment", "form_name", "landing_url", "office")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("utm")
    @classmethod
    def _known_utm(cls, value: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in value.items() if k in UTM_FIELDS and v}


def _capped(data: dict[str, Any]) -> dict[str, Any]:
    data, cut = dict(data), list(data.get("truncated") or [])
    for name, cap in FIELD_CAPS.items():
        value = data.get(name)
        if isinstance(value, str) and len(value.strip()) > cap:
            data[name] = value.strip()[:cap]
            cut.append(name)
    utm = data.get("utm")
    if isinstance(utm, dict):
        data["utm"] = {k: v[:UTM_CAP] if isinstance(v, str) else v for k, v in utm.items()}
        cut += [k for k, v in utm.items() if isinstance(v, str) and len(v) > UTM_CAP]
    extra = data.get("extra")
    if isinstance(extra, dict):
        data["extra"], extra_cut = _capped_extra(extra)
        cut += ["extra"] if extra_cut else []
    data["truncated"] = cut
    return data


def _capped_extra(extra: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """At most EXTRA_KEYS fields; long texts and nested values cut to EXTRA_VALUE_CAP."""
    kept: dict[str, Any] = {}
    cut = len(extra) > EXTRA_KEYS
    for key, value in list(extra.items())[:EXTRA_KEYS]:
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, default=str)
            if len(value) <= EXTRA_VALUE_CAP:
                value = json.loads(value)
        if isinstance(value, str) and len(value) > EXTRA_VALUE_CAP:
            value, cut = value[:EXTRA_VALUE_CAP], True
        cut = cut or len(str(key)) > EXTRA_KEY_CAP
        kept[str(key)[:EXTRA_KEY_CAP]] = value
    return kept, cut


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value
