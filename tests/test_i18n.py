"""Texts and formats: CLDR plural forms (Babel), money as people write it, one key per file."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from config import i18n
from config.i18n import Translator


@pytest.fixture
def plural_catalog(tmp_path, monkeypatch):
    (tmp_path / "ru.toml").write_text(
        '[deals.count]\none = "{n} сделка"\nfew = "{n} сделки"\nmany = "{n} сделок"\n'
        'other = "{n} сделки"\n',
        encoding="utf-8",
    )
    (tmp_path / "en.toml").write_text(
        '[deals.count]\none = "{n} deal"\nother = "{n} deals"\n', encoding="utf-8"
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n._catalog.cache_clear()
    yield tmp_path
    i18n._catalog.cache_clear()


@pytest.mark.parametrize(
    ("n", "ru", "en"),
    [
        (1, "1 сделка", "1 deal"),
        (2, "2 сделки", "2 deals"),
        (5, "5 сделок", "5 deals"),
        (11, "11 сделок", "11 deals"),
        (21, "21 сделка", "21 deals"),
        (22, "22 сделки", "22 deals"),
        (0, "0 сделок", "0 deals"),
    ],
)
def test_plural_forms_follow_the_language_rules(plural_catalog, n, ru, en):
    assert Translator("ru").plural("deals.count", n) == ru
    assert Translator("en").plural("deals.count", n) == en


def test_a_key_defined_in_two_feature_files_is_refused(plural_catalog):
    (plural_catalog / "ru.find.toml").write_text('[deals]\ncount = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="already defined"):
        Translator("ru")("deals.count")


def test_money_is_grouped_with_the_sign_and_no_empty_kopecks():
    nbsp = "\u00a0"
    assert Translator("ru").money(Decimal("150000")) == f"150{nbsp}000{nbsp}₽"
    assert Translator("ru").money(Decimal("1500.50")) == f"1{nbsp}500,5{nbsp}₽"
    assert Translator("en").money(150000) == f"150,000{nbsp}₽"
    assert Translator("ru").money(None) == "—"


def test_times_are_shown_in_the_viewers_zone():
    moment = datetime(2020, 12, 5, 7, 0, tzinfo=UTC)
    assert Translator("ru").when(moment, ZoneInfo("Europe/Moscow")) == "5 дек. 2020, 10:00"
    assert Translator("en").when(moment, ZoneInfo("Asia/Yekaterinburg"), with_date=False) == "12:00"


def test_an_unknown_locale_falls_back_to_russian():
    assert Translator("de").locale == "ru"
