"""Locale texts and formats.

Texts live in `config/locales/<locale>.toml` and `<locale>.<feature>.toml` (one file per
feature, so that features don't edit one file); keys with dots, `str.format` parameters. A key
used in two files of one locale is an error at load.

Plural forms come from Babel's CLDR rules, never hand-written: a plural text is a table with
the CLDR categories the language has (`one`, `few`, `many`, `other` in Russian; `one`, `other`
in English) and `t.plural("deals.count", n)` picks the right one (`{n}` is the number).
Money is `150 000 ₽` (grouped, no kopecks unless there are any); times are shown in the
viewer's time zone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import DateTimePattern, format_date
from babel.dates import parse_pattern as parse_date_pattern
from babel.lists import format_list
from babel.numbers import parse_pattern

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
FALLBACK = "ru"
LOCALES = ("ru", "en")
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸"}


@cache
def _catalog(locale: str) -> dict[str, Any]:
    files = [LOCALES_DIR / f"{locale}.toml", *sorted(LOCALES_DIR.glob(f"{locale}.*.toml"))]
    catalog: dict[str, Any] = {}
    for path in files:
        if not path.exists():
            continue
        for key, value in _flatten(tomllib.loads(path.read_text(encoding="utf-8"))):
            if key in catalog:
                raise ValueError(f"{path.name}: {key!r} is already defined in another file")
            catalog[key] = value
    return catalog


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_plural(value):
            items.extend(_flatten(value, name + "."))
        elif isinstance(value, dict):
            items.append((name, {k: str(v) for k, v in value.items()}))
        else:
            items.append((name, str(value)))
    return items


def _is_plural(table: dict[str, Any]) -> bool:
    return "other" in table and set(table) <= PLURAL_CATEGORIES


def _lookup(locale: str, key: str) -> Any:
    found = _catalog(locale).get(key)
    return found if found is not None else _catalog(FALLBACK).get(key)


def translate(locale: str | None, key: str, *, default: str | None = None, **params: Any) -> str:
    text = _lookup(locale or FALLBACK, key)
    if isinstance(text, dict):  # a plural text used without a number: its general form
        text = text["other"]
    if text is None:
        text = default if default is not None else key
    return text.format(**params) if params else text


def plural(locale: str | None, key: str, n: int | Decimal, **params: Any) -> str:
    """The text for `n` things, in the form the language's plural rules ask for."""
    locale = locale or FALLBACK
    forms = _lookup(locale, key)
    if not isinstance(forms, dict):
        return translate(locale, key, n=n, **params)
    category = _plural_rule(locale)(abs(n))
    text = forms.get(category) or forms["other"]
    return text.format(n=n, **params)


def money(locale: str | None, amount: Decimal | int | float | None, currency: str = "RUB") -> str:
    """`150 000 ₽`: grouped as the locale groups, kopecks only when there are some."""
    if amount is None:
        return "—"
    number = _MONEY_PATTERN.apply(Decimal(amount), _locale(locale or FALLBACK))
    return f"{number}\u00a0{CURRENCY_SIGNS.get(currency, currency)}"


_MONEY_PATTERN = parse_pattern("#,##0.##")  # parsed once (format_decimal parses per call)


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@cache
def _plural_rule(code: str) -> Callable[[int | Decimal], str]:
    """The language's CLDR plural rule (Babel rebuilds its locale data on every
    `Locale.plural_form` read)."""
    return _locale(code).plural_form


@cache
def _date_pattern(pattern: str) -> DateTimePattern:
    """Parsed once (format_datetime parses its pattern on every call)."""
    return parse_date_pattern(pattern)


def when(locale: str | None, moment: datetime, tz: tzinfo, *, with_date: bool = True) -> str:
    """A moment in the viewer's zone: `5 дек., 10:00` (the year only when it is not this one)."""
    local = moment.astimezone(tz)
    if not with_date:
        pattern = "HH:mm"
    else:
        pattern = "d MMM, HH:mm" if local.year == datetime.now(tz).year else "d MMM y, HH:mm"
    return _date_pattern(pattern).apply(local, _locale(locale or FALLBACK))


def moment(locale: str | None, value: datetime, tz: tzinfo, *, now: datetime | None = None) -> str:
    """A moment as it is read back to confirm it: `пт, 05.12 в 10:00` (the year when it is
    not the year of `now`); the pattern is the locale's `format.moment` text."""
    local = value.astimezone(tz)
    this_year = (now or datetime.now(tz)).astimezone(tz).year
    key = "format.moment" if local.year == this_year else "format.moment_year"
    return _date_pattern(translate(locale, key)).apply(local, _locale(locale or FALLBACK))


def day(locale: str | None, value: date) -> str:
    return format_date(value, "d MMM y", locale=locale or FALLBACK)


class Translator:
    """Texts and formats in one language: `t("key", **params)`, `t.plural(...)`, `t.money(...)`,
    `t.when(...)`."""

    def __init__(self, locale: str | None) -> None:
        self.locale = locale if locale in LOCALES else FALLBACK

    def __call__(self, key: str, *, default: str | None = None, **params: Any) -> str:
        return translate(self.locale, key, default=default, **params)

    def plural(self, key: str, n: int | Decimal, **params: Any) -> str:
        return plural(self.locale, key, n, **params)

    def money(self, amount: Decimal | int | float | None, currency: str = "RUB") -> str:
        return money(self.locale, amount, currency)

    def when(self, moment: datetime, tz: tzinfo, *, with_date: bool = True) -> str:
        return when(self.locale, moment, tz, with_date=with_date)

    def day(self, value: date) -> str:
        return day(self.locale, value)

    def moment(self, value: datetime, tz: tzinfo, *, now: datetime | None = None) -> str:
        return moment(self.locale, value, tz, now=now)

    def counts(self, prefix: str, counts: Mapping[str, int], order: Iterable[str]) -> str:
        """ "3 сделки и 2 задачи": each non-zero count in `order` with its plural text
        (`prefix.<name>`), joined as the language joins a list (Babel's CLDR list patterns);
        "" when all are zero."""
        parts = [self.plural(f"{prefix}.{name}", n) for name in order if (n := counts.get(name))]
        return format_list(parts, locale=self.locale) if parts else ""
