"""Money typed by a person: "150000", "150 000", "150 000 ₽", "150000 руб", "150 000,50",
"1,500.50" — and whatever `t.money` prints, in either language.

Strict on purpose: a number with at most two decimals, grouped in threes if grouped at all
(spaces of any width, or "," / "." when the other one is the decimal mark), and an optional
ruble sign or word. Anything else ("1.5k", "полтора миллиона", "-5", "1 50 000", "12,345,6") is
refused with a message saying how to type it, never guessed at.
"""

from __future__ import annotations

import re
from decimal import Decimal

from services.errors import InvalidInput

# The largest value a `Numeric(14, 2)` column holds.
MAX_AMOUNT = Decimal("999999999999.99")

# Spaces people (and Babel) put between digit groups: NBSP, narrow NBSP, thin, figure, …
_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f\u200a]+")
_CURRENCY = re.compile(r"^(?:₽|руб(?:\.|лей|ля|ль)?|р\.?|rub\.?|rur)$", re.IGNORECASE)
_SUFFIX = re.compile(r"^(?P<n>.*?)\s?(?P<c>[^\d\s.,][^\d\s,]*)$")
_PREFIX = re.compile(r"^(?P<c>[^\d\s.,\-−–]+)\s?(?P<n>.*)$")
_PLAIN = re.compile(r"^(?P<int>[0-9]+)(?:[.,](?P<frac>[0-9]{1,2}))?$")
_GROUPED = re.compile(
    r"^(?P<int>[0-9]{1,3}(?P<sep>[ .,])[0-9]{3}(?:(?P=sep)[0-9]{3})*)"
    r"(?:(?P<mark>[.,])(?P<frac>[0-9]{1,2}))?$"
)


def parse_amount(text: str) -> Decimal:
    """The amount in `text` (not negative, at most `MAX_AMOUNT`, two decimals at most);
    InvalidInput with key `money.*` otherwise."""
    if len(text) > 64:
        raise InvalidInput("not an amount: too long", key="money.invalid")
    words = _SPACES.sub(" ", text).strip()
    number = _without_currency(words)
    if not number:
        raise InvalidInput("no amount given", key="money.empty")
    if number.startswith(("-", "−", "–")):
        raise InvalidInput("an amount cannot be negative", key="money.negative")
    value = _number(number)
    if value is None:
        raise InvalidInput(f"not an amount: {text!r}", key="money.invalid")
    if value > MAX_AMOUNT:
        raise InvalidInput("the amount is too large", key="money.too_large")
    return value


def _without_currency(words: str) -> str:
    """ "150 000 ₽" → "150 000"; "₽150" → "150"; the sign may touch the digits."""
    for pattern in (_SUFFIX, _PREFIX):
        found = pattern.match(words)
        if found and _CURRENCY.match(found["c"]):
            return found["n"].strip()
    return words


def _number(text: str) -> Decimal | None:
    plain = _PLAIN.match(text)
    if plain:
        return _cents(plain["int"], plain["frac"])
    grouped = _GROUPED.match(text)
    if grouped is None or grouped["mark"] == grouped["sep"]:
        return None
    digits = grouped["int"].replace(grouped["sep"], "")
    return _cents(digits, grouped["frac"])


def _cents(whole: str, fraction: str | None) -> Decimal:
    return Decimal(f"{whole}.{fraction or '0'}").quantize(Decimal("0.01"))
