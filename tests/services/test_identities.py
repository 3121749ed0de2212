"""Phones and e-mails as people type them become one canonical address (PROTOCOLS §6)."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.clients.identities import format_phone, normalize_email, normalize_phone
from services.errors import InvalidEmail, InvalidPhone


@pytest.mark.parametrize(
    "raw",
    [
        "+7 912 000-11-22",
        "8 (912) 000-11-22",
        "79120001122",
        "9120001122",
        "+7(912)0001122",
        "+7\u00a0912\u00a0000\u201111\u201122",
        "tel:+7-912-000-11-22",
        "+7 912 000-11-22 доб. 123",
        79120001122,
    ],
)
def test_every_way_of_writing_a_russian_mobile_is_one_number(raw: str | int) -> None:
    assert normalize_phone(raw, "RU") == "+79120001122"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("8 (3412) 12-34-56", "+73412123456"),
        ("8 800 555-35-35", "+78005553535"),
        ("+375 29 123-45-67", "+375291234567"),
        ("8 10 375 29 1234567", "+375291234567"),
        ("+7 701 123 4567", "+77011234567"),
    ],
)
def test_landlines_toll_free_and_foreign_numbers(raw: str, expected: str) -> None:
    assert normalize_phone(raw, "RU") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "912-000-11-2",
        "+7 912 000 11 22 33",
        "7912000112",
        "123-45-67",
        "101",
        "",
        "abc",
        "sip:user1@vpbx1.mangosip.ru",
        "+7 912 000-11-22, +7 912 000-33-44",
        "007 912 000 11 22",
    ],
)
def test_what_is_not_a_phone_is_refused_not_guessed(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw, "RU")


def test_international_digits_without_plus_are_read_as_international() -> None:
    assert normalize_phone("16505551234", "RU", international=True) == "+16505551234"
    with pytest.raises(InvalidPhone):
        normalize_phone("16505551234", "RU")


def test_emails_are_compared_case_insensitively() -> None:
    assert normalize_email("  Ivan.Petrov@Example.COM ") == "ivan.petrov@example.com"
    with pytest.raises(InvalidEmail):
        normalize_email("ivan@")


def _parsed_and_formatted(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_EXAMPLES = [
    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]


@settings(max_examples=300, deadline=None)
@given(
    e164=st.sampled_from(_EXAMPLES)
    | st.from_regex(r"\+[1-9]\d{7,14}", fullmatch=True)
    | st.from_regex(r"\+\d{1,16}", fullmatch=True)
    | st.text(max_size=20)
)
def test_a_card_shows_a_phone_as_parsing_it_would(e164: str) -> None:
    """Stored E.164 numbers of every region (with Italian leading zeros), odd digit strings
    and junk: format_phone writes them as phonenumbers does after parsing them."""
    assert format_phone(e164) == _parsed_and_formatted(e164)


def test_a_russian_mobile_is_written_with_spaces_and_dashes() -> None:
    assert format_phone("+79120001122") == "+7 912 000-11-22"
    assert format_phone("+390612345678") == "+39 06 1234 5678"  # Rome: the 0 is kept
