"""Normalising the addresses a person is known by: phones to E.164, e-mails to lower case."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.errors import InvalidEmail, InvalidPhone


@lru_cache(maxsize=8192)  # pure; people write the same number again and again
def normalize_phone(raw: str | int, region: str = "RU", *, international: bool = False) -> str:
    """E.164 for a valid number, else InvalidPhone.

    `international=True` is for sources that send country code and digits without "+"
    (WhatsApp wa_id, PBX numbers, Telegram contacts): read as-is, not as a national number.
    """
    text = str(raw).strip()
    if international and text.isdigit():
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {text!r}", raw=text) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid phone number: {text!r}", raw=text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=8192)
def normalize_email(raw: str) -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"not a valid e-mail: {raw!r}", raw=raw) from exc
    return result.normalized.lower()


@lru_cache(maxsize=4096)  # parsing a number is the costly part of drawing a card
def format_phone(e164: str) -> str:
    """A human-friendly international form for cards: +7 912 000-11-22."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
