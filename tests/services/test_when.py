"""The free-text due-time adapter (services.when) on a corpus of phrases people type, in
Russian and English, at fixed moments in a zone without daylight saving (Moscow) and one with
it (Berlin, on the days its clocks change), at midnight and at the turn of a month and year.

Each phrase has the moment a person means, or ASK where people mean different things by it.
The adapter must get at least 95% exactly, ask back the rest, and never answer wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.when import FURTHEST, Reason, Unclear, Understood, parse_when
from tests.when_corpus import ASK, CASES, now_of


def test_the_corpus_is_read_right_or_asked_never_wrong() -> None:
    exact, asked, wrong = [], [], []
    for key, text, expected in CASES:
        now, zone = now_of(key)
        got = parse_when(text, now, zone)
        if expected == ASK:
            (exact if isinstance(got, Unclear) else wrong).append((key, text, got))
            continue
        meant = datetime.fromisoformat(expected).replace(tzinfo=zone).astimezone(UTC)
        if isinstance(got, Unclear):
            asked.append((key, text, got.reason))
        elif got.at == meant:
            exact.append(text)
        else:
            wrong.append((key, text, got.at.astimezone(zone)))
    assert len(CASES) >= 80
    assert wrong == []
    assert len(exact) / len(CASES) >= 0.95, asked
    assert {"ru", "en"} <= {_language(text) for _key, text, _ in CASES}


def _language(text: str) -> str:
    return "en" if text.isascii() and any(c.isalpha() for c in text) else "ru"


@pytest.mark.parametrize(
    ("key", "text", "options"),
    [
        ("M", "в 10", ["2026-12-03 22:00", "2026-12-04 10:00"]),
        ("M", "at 10", ["2026-12-03 22:00", "2026-12-04 10:00"]),
        ("M", "пт в 7", ["2026-12-04 07:00", "2026-12-04 19:00"]),
        ("M", "в четверг в 16", ["2026-12-03 16:00", "2026-12-10 16:00"]),
        ("MA", "завтра в 10", ["2026-12-04 10:00", "2026-12-05 10:00"]),
        ("B", "завтра в 2:30", ["2027-03-28 03:30"]),  # 02:30 does not exist that night
    ],
)
def test_an_ambiguous_phrase_offers_its_readings(key: str, text: str, options: list[str]) -> None:
    now, zone = now_of(key)
    got = parse_when(text, now, zone)
    assert isinstance(got, Unclear) and got.reason is Reason.AMBIGUOUS
    assert [o.astimezone(zone).strftime("%Y-%m-%d %H:%M") for o in got.options] == options


def test_a_day_without_a_time_says_the_time_was_assumed() -> None:
    now, zone = now_of("M")
    friday = parse_when("в пятницу", now, zone)
    deadline = parse_when("до пятницы", now, zone)
    typed = parse_when("пт 10:00", now, zone)
    assert isinstance(friday, Understood) and friday.assumed_time
    assert friday.at.astimezone(zone).hour == 10
    assert isinstance(deadline, Understood) and deadline.at.astimezone(zone).hour == 18
    assert isinstance(typed, Understood) and not typed.assumed_time


def test_in_two_hours_across_a_clock_change_is_two_hours_of_real_time() -> None:
    zone = ZoneInfo("Europe/Berlin")
    now = datetime(2027, 3, 28, 1, 30, tzinfo=zone)  # 30 min before clocks jump to 03:00
    got = parse_when("через 2 часа", now, zone)
    assert isinstance(got, Understood) and got.at - now == timedelta(hours=2)
    assert got.at.astimezone(zone).strftime("%H:%M") == "04:30"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", Reason.EMPTY),
        ("   ", Reason.EMPTY),
        ("завтра " * 30, Reason.TOO_LONG),
        ("позвонить клиенту", Reason.NOT_UNDERSTOOD),
        ("31.11 10:00", Reason.INVALID),
        ("в 25:00", Reason.INVALID),
        ("вчера в 10", Reason.PAST),
    ],
)
def test_what_cannot_be_a_due_time_says_why(text: str, reason: Reason) -> None:
    now, zone = now_of("M")
    got = parse_when(text, now, zone)
    assert isinstance(got, Unclear) and got.reason is reason


_WORDS = [
    "завтра",
    "послезавтра",
    "сегодня",
    "в",
    "к",
    "до",
    "через",
    "пт",
    "понедельник",
    "следующий",
    "утром",
    "вечером",
    "в обед",
    "часа",
    "минут",
    "дня",
    "недели",
    "25.12",
    "31.02",
    "10:00",
    "23:59",
    "24:00",
    "0",
    "7",
    "12",
    "99",
    "tomorrow",
    "next",
    "monday",
    "in",
    "hours",
    "min",
    "am",
    "pm",
    "at",
    "by",
    "friday",
    "noon",
    "midnight",
    ".",
    ":",
]
_ZONES = ["Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]


@settings(max_examples=400, deadline=None)
@given(
    words=st.one_of(
        st.text(max_size=60),
        st.lists(st.sampled_from(_WORDS), max_size=6).map(" ".join),
    ),
    moment=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2035, 12, 31)),
    zone=st.sampled_from(_ZONES),
)
def test_any_text_at_any_moment_gives_a_future_moment_or_a_question(
    words: str, moment: datetime, zone: str
) -> None:
    tz = ZoneInfo(zone)
    now = moment.replace(tzinfo=tz)
    got = parse_when(words, now, tz)
    if isinstance(got, Understood):
        assert got.at.tzinfo is UTC
        assert now < got.at <= now + FURTHEST
    else:
        assert all(o.tzinfo is UTC and o > now for o in got.options)
