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


@lru_cache(maxsize=4096)
def format_phone(e164: str) -> str:
    """A human-friendly international form for cards: +7 912 000-11-22.

    A stored number is already E.164 (`normalize_phone`), so it is split into country code
    and national number directly rather than parsed again (parsing was most of the cost of a
    list of found clients); anything else is parsed."""
    number = _from_e164(e164)
    if number is None:
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _from_e164(e164: str) -> phonenumbers.PhoneNumber | None:
    """ "+" and 8-15 digits as phonenumbers.parse reads them (country code, national number
    with its leading zeros), or None for anything else."""
    digits = e164[1:]
    if not (e164.startswith("+") and digits.isascii() and digits.isdigit()):
        return None
    if not 8 <= len(digits) <= 15 or digits[0] == "0":
        return None
    for size in (1, 2, 3):  # country codes are prefix-free
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            if not national.strip("0"):
                return None
            number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
            zeros = len(national) - len(national.lstrip("0"))
            if zeros:
                number.italian_leading_zero = True
                if zeros > 1:
                    number.number_of_leading_zeros = zeros
            return number
    return None
