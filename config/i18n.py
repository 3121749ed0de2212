"""Locale texts: `config/locales/<locale>.toml`, keys with dots, `str.format` parameters."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
FALLBACK = "ru"


@cache
def _catalog(locale: str) -> dict[str, str]:
    path = LOCALES_DIR / f"{locale}.toml"
    if not path.exists():
        return {}
    return dict(_flatten(tomllib.loads(path.read_text(encoding="utf-8"))))


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, name + "."))
        else:
            items.append((name, str(value)))
    return items


def translate(locale: str | None, key: str, *, default: str | None = None, **params: Any) -> str:
    text = _catalog(locale or FALLBACK).get(key) or _catalog(FALLBACK).get(key)
    if text is None:
        text = default if default is not None else key
    return text.format(**params) if params else text


class Translator:
    def __init__(self, locale: str | None) -> None:
        self.locale = locale or FALLBACK

    def __call__(self, key: str, *, default: str | None = None, **params: Any) -> str:
        return translate(self.locale, key, default=default, **params)
