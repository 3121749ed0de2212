"""Amounts typed by people: the forms they type are read, anything else is refused with a
message saying how to type it; whatever the bot prints reads back as the same amount."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.i18n import Translator
from services.errors import InvalidInput
from services.money import MAX_AMOUNT, parse_amount


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("150000", "150000"),
        ("150 000", "150000"),
        ("150 000 ₽", "150000"),
        ("150000 руб", "150000"),
        ("150000руб.", "150000"),
        ("150 000 р.", "150000"),
        ("150 000,50", "150000.50"),
        ("150000.5", "150000.50"),
        ("150\u00a0000\u00a0₽", "150000"),  # NBSP, as Telegram keeps a pasted amount
        ("150\u2009000", "150000"),  # a thin space
        ("150\u202f000,5 ₽", "150000.50"),  # a narrow NBSP
        ("1,500.50", "1500.50"),  # English grouping
        ("1.500,50", "1500.50"),
        ("₽ 150", "150"),
        ("  0 ", "0"),
    ],
)
def test_amounts_people_type_are_read(typed: str, amount: str) -> None:
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "money.empty"),
        ("₽", "money.empty"),
        ("-5", "money.negative"),
        ("−150 000 ₽", "money.negative"),
        ("1000000000000", "money.too_large"),
        ("1.5k", "money.invalid"),  # no guessing at suffixes
        ("полтора миллиона", "money.invalid"),
        ("1 50 000", "money.invalid"),  # groups of three or none
        ("12,345,6", "money.invalid"),  # the decimal mark is not the group mark
        ("150,000,00", "money.invalid"),
        ("1,005", "1005"),  # a lone separator before three digits groups them
        ("1e5", "money.invalid"),
        ("0x10", "money.invalid"),
        ("١٢٣", "money.invalid"),  # only ASCII digits
        ("150 $ 000", "money.invalid"),
        ("9" * 100, "money.invalid"),
    ],
)
def test_garbage_is_refused_with_a_message(typed: str, key: str) -> None:
    if key[0].isdigit():
        assert parse_amount(typed) == Decimal(key)
        return
    with pytest.raises(InvalidInput) as refused:
        parse_amount(typed)
    assert refused.value.key == key
    assert Translator("ru")(key) != key  # the message exists in the locale files


amounts = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False)


@given(amount=amounts, locale=st.sampled_from(["ru", "en"]))
def test_what_the_bot_prints_reads_back(amount: Decimal, locale: str) -> None:
    printed = Translator(locale).money(amount)
    assert parse_amount(printed) == amount


@given(text=st.text(max_size=40))
def test_any_text_is_read_or_refused_never_crashes(text: str) -> None:
    try:
        value = parse_amount(text)
    except InvalidInput as refused:
        assert refused.key.startswith("money.")
        return
    assert Decimal(0) <= value <= MAX_AMOUNT
    assert re.search(r"[0-9]", text)  # nothing but a number (and a ruble sign) was accepted
    assert re.fullmatch(r"[0-9\s.,₽рубРУБлейяьRrUuBb.]+", text)
