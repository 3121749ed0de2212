"""Due times typed as people type them: "завтра в 15:00", "через 2 часа", "пт 10:00",
"next monday 9am". One adapter (`parse_when`) over the timesense library, which reads Russian
and English phrases (README: "Free-text times" says why it was chosen, by measurement).

The adapter adds what a reminder needs and the library does not promise: it never answers
with a moment in the past, never keeps a date while dropping the hour someone typed, and asks
instead of guessing where people mean different things by one phrase:

- a bare hour that has passed today ("в 10" at 14:20: tonight at 22:00 or tomorrow at 10?);
- "завтра" typed after midnight (the calendar's tomorrow, or the day they wake up to?);
- an hour of 1-7 with a day and no "утра/вечера", am/pm ("пт в 7");
- a time that does not exist that day (a clock change) or a date that does not exist (31.11).

A day without a time gets the start of the working day (DEFAULT_HOUR); "до пятницы" / "by
friday" mean the end of it (END_OF_DAY). "Next <weekday>" is that weekday of next week.
The result is always echoed back to the person before anything is saved.

    parse_when("пт 10:00", now, ZoneInfo("Europe/Moscow"))  # Understood(at=... UTC)
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache

from timesense import (
    CalendarResult,
    ReminderResult,
    TaskResult,
    TaskType,
    TimeConfig,
    TimeSenseParser,
)

log = logging.getLogger(__name__)

DEFAULT_HOUR = 10  # a day named without a time: the start of the working day
END_OF_DAY = 18  # "до пятницы": by the end of that working day
AFTER_MIDNIGHT = 5  # "завтра" typed before 05:00 may mean the day that has just begun
MAX_TEXT = 100  # characters; a due time is a few words
FURTHEST = timedelta(days=2 * 366)  # further ahead than this is a typo, not a plan


class Reason(enum.StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_UNDERSTOOD = "not_understood"
    INVALID = "invalid"  # a date or time that does not exist (31.11, 25:00), or years ahead
    PAST = "past"
    AMBIGUOUS = "ambiguous"  # `options` holds the readings to choose from


@dataclass(frozen=True)
class Understood:
    at: datetime  # aware, UTC
    assumed_time: bool = False  # no time was typed: DEFAULT_HOUR or END_OF_DAY was used


@dataclass(frozen=True)
class Unclear:
    reason: Reason
    options: tuple[datetime, ...] = field(default=())  # aware, UTC, in the future


When = Understood | Unclear


def parse_when(text: str, now: datetime, tz: tzinfo) -> When:
    """What moment `text` means, said at `now` (aware) by someone whose clock is in `tz`."""
    words = " ".join(text.lower().replace("ё", "е").split())
    if not words:
        return Unclear(Reason.EMPTY)
    if len(words) > MAX_TEXT:
        return Unclear(Reason.TOO_LONG)
    words = _DOTTED_CLOCK.sub(_as_clock, words)
    if _impossible(words):
        return Unclear(Reason.INVALID)
    local_now = now.astimezone(tz)
    asked, next_week = _NEXT_WEEKDAY.subn(r"\1", words)
    found = _library(asked, local_now, tz)
    if found is None:
        return Unclear(Reason.NOT_UNDERSTOOD)
    moment, has_time, deadline = found
    if not has_time:
        if _HOUR_WORDS.search(_without_dates(words)):
            return Unclear(Reason.NOT_UNDERSTOOD)  # an hour was typed and got lost
        hour = END_OF_DAY if deadline or _BY.match(words) else DEFAULT_HOUR
        moment = _at(moment.date(), time(hour), tz)
    elif not _keeps_typed_time(words, moment):
        return Unclear(Reason.NOT_UNDERSTOOD)
    if next_week:
        monday = local_now.date() - timedelta(days=local_now.weekday()) + timedelta(days=7)
        moment = _at(monday + timedelta(days=moment.weekday()), moment.timetz(), tz)
    return _checked(words, moment, local_now, tz, assumed=not has_time)


class Preset(enum.StrEnum):
    """The quick choices offered beside typing a time."""

    IN_HOUR = "1h"
    TODAY_EVENING = "t18"  # today at END_OF_DAY
    TOMORROW = "m10"  # tomorrow at DEFAULT_HOUR
    NEXT_MONDAY = "mo10"  # Monday of next week at DEFAULT_HOUR


def presets(now: datetime, tz: tzinfo) -> dict[Preset, datetime]:
    """The quick choices that are still ahead of `now` (UTC moments), in their order."""
    local = now.astimezone(tz)
    today = local.date()
    monday = today - timedelta(days=local.weekday()) + timedelta(days=7)
    moments = {
        Preset.IN_HOUR: now + timedelta(hours=1),
        Preset.TODAY_EVENING: _at(today, time(END_OF_DAY), tz),
        Preset.TOMORROW: _at(today + timedelta(days=1), time(DEFAULT_HOUR), tz),
        Preset.NEXT_MONDAY: _at(monday, time(DEFAULT_HOUR), tz),
    }
    return {p: _utc(m).replace(second=0, microsecond=0) for p, m in moments.items() if m > now}


def _checked(words: str, moment: datetime, now: datetime, tz: tzinfo, *, assumed: bool) -> When:
    """The readings people may disagree about are asked; the rest must be ahead of now."""
    if not _exists(moment, tz):
        shifted = _utc(moment)
        return Unclear(Reason.AMBIGUOUS, (shifted,) if shifted > now else ())
    bare = _BARE_HOUR.fullmatch(words)
    if bare and 1 <= int(bare.group(1)) <= 11:
        hour = int(bare.group(1))
        today = _at(now.date(), time(hour), tz)
        if today > now:
            return Understood(_utc(today))
        evening = _at(now.date(), time(hour + 12), tz)
        tomorrow = _at(now.date() + timedelta(days=1), time(hour), tz)
        return _either(evening, tomorrow, now=now)
    small = _DAY_AND_SMALL_HOUR.search(words)
    if small and 1 <= int(small.group(1)) <= 7 and moment.minute == 0:
        hour, day = int(small.group(1)), moment.date()
        return _either(_at(day, time(hour), tz), _at(day, time(hour + 12), tz), now=now)
    if _TOMORROW.search(words) and now.hour < AFTER_MIDNIGHT:
        today = _at(moment.date() - timedelta(days=1), moment.timetz(), tz)
        return _either(today, moment, now=now)
    if _WEEKDAY.search(words) and moment.date() - now.date() == timedelta(days=7):
        today = _at(now.date(), moment.timetz(), tz)  # today's weekday named: today or in a week?
        if today > now:
            return _either(today, moment, now=now)
    if moment <= now:
        return Unclear(Reason.PAST)
    if moment - now > FURTHEST:
        return Unclear(Reason.INVALID)
    return Understood(_utc(moment), assumed_time=assumed)


def _either(first: datetime, second: datetime, *, now: datetime) -> When:
    """Two readings: asked while both are ahead, the one that is when the other has passed."""
    ahead = tuple(_utc(m) for m in (first, second) if m > now)
    if len(ahead) == 1:
        return Understood(ahead[0])
    return Unclear(Reason.AMBIGUOUS if ahead else Reason.PAST, ahead)


# --- the library


@cache
def _parser() -> TimeSenseParser:
    # Without pymorphy (use_morph=False): the library's own word forms cover due times, and
    # the morphology dictionaries would cost ~100 MB and seconds at start.
    return TimeSenseParser(TimeConfig(use_morph=False, prefer_nearest_future=True))


def _library(words: str, now: datetime, tz: tzinfo) -> tuple[datetime, bool, bool] | None:
    """The library's reading of `words`: the moment (in `tz`), whether it has a time of day
    (False: a whole day, a deadline day, or a part of the week) and whether it is a deadline
    ("by friday", "end of day")."""
    try:
        found = _parser().parse(words, now=now, tz=tz)
    except Exception:  # a phrase the library chokes on is one we do not understand
        log.warning("timesense failed on %r", words, exc_info=True)
        return None
    if isinstance(found, ReminderResult):
        return found.datetime_at.astimezone(tz), True, False
    if isinstance(found, CalendarResult):
        return found.start_at.astimezone(tz), True, False
    if isinstance(found, TaskResult):
        if found.task_type is TaskType.DEADLINE and found.deadline is not None:
            deadline = found.deadline.astimezone(tz)
            return deadline, (deadline.hour, deadline.minute) != (23, 59), True
        start = found.start_at
        if start is None:
            return None
        start = start.astimezone(tz)
        return start, (start.hour, start.minute) != (0, 0), False
    return None


# --- what was typed

_MONTHS = (
    r"янв\w*|фев\w*|мар\w*|апр\w*|ма[яй]\w*|июн\w*|июл\w*|авг\w*|сен\w*|окт\w*|ноя\w*|дек\w*"
    r"|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*"
)
_WEEKDAYS = (
    r"понедельник\w*|вторник\w*|сред\w*|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*"
    r"|пн|вт|ср|чт|пт|сб|вс"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
)
_NUMERIC_DATE = re.compile(r"\b(\d{1,4})[./-](\d{1,2})(?:[./-](\d{2,4}))?\b")
_DATE_WORDS = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th|-?го|-?е)?\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{1,2}}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)\b"
)
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")
# A number that reads as an hour: "в 9", "9 утра", "9am", "10:00", "завтра 9".
_HOUR_WORDS = re.compile(
    r"\d{1,2}:\d{2}|\b\d{1,2}\s*(?:am|pm|утра|вечера|дня|ночи)\b"
    r"|(?:^|\s)(?:в|во|к|at|by|до)\s+\d{1,2}\b(?!\s*(?:мин|дн|нед|мес|min|day|week|month))"
    rf"|(?:{_WEEKDAYS}|завтра|сегодня|послезавтра|tomorrow|today)\s+\d{{1,2}}$"
)
_WEEKDAY = re.compile(rf"\b(?:{_WEEKDAYS})\b")
_NEXT_WEEKDAY = re.compile(rf"\b(?:next|следующ\w*)\s+({_WEEKDAYS})\b")
_BARE_HOUR = re.compile(r"(?:в|во|к|at)?\s*(\d{1,2})(?:\s*(?:ч|час|часа|часов|h|o'clock))?")
# An hour of 1-7 next to a day, with no am/pm or утра/вечера/дня/ночи: morning or evening?
_DAY_AND_SMALL_HOUR = re.compile(
    rf"(?:{_WEEKDAYS}|завтра|послезавтра|tomorrow|\d{{1,2}}[./]\d{{1,2}})\s+(?:в|во|at|к)?\s*"
    r"(\d)$"
)
_TOMORROW = re.compile(r"(?<!после)\b(?:завтра|tomorrow)\b")
_BY = re.compile(r"(?:до|к|by|until|till)\b")


# "15.00", "в 9.30": a time written with a dot (not a date: there is no month 0 or 30).
_DOTTED_CLOCK = re.compile(r"(?<![\d./])([01]?\d|2[0-3])\.([0-5]\d)(?![\d./])")


def _as_clock(match: re.Match[str]) -> str:
    hour, minute = match.groups()
    return match.group(0) if 1 <= int(minute) <= 12 else f"{hour}:{minute}"


def _without_dates(words: str) -> str:
    return _DATE_WORDS.sub(" ", _NUMERIC_DATE.sub(" ", words))


def _impossible(words: str) -> bool:
    """A date or clock time typed in digits that no calendar has (32.12, 31.11, 25:00)."""
    for hour, minute in _CLOCK.findall(words):
        if int(hour) > 23 or int(minute) > 59:
            return True
    for match in _NUMERIC_DATE.finditer(words):
        first, second, third = match.groups()
        rest = words[match.end() :].lstrip()
        if rest.startswith(("ч", "мин", "h", "min")):
            continue  # "1.5 часа" is a duration
        if len(first) == 4:  # 2026-12-25
            if third is None:
                continue
            day, month = int(third), int(second)
        else:
            day, month = int(first), int(second)
        try:
            date(2028, month, day)  # a leap year: 29.02 exists in some year
        except ValueError:
            return True
    return False


def _keeps_typed_time(words: str, moment: datetime) -> bool:
    """A clock time typed as HH:MM is the one understood (the library must not move it)."""
    clocks = _CLOCK.findall(words)
    if not clocks:
        return True
    return any(
        int(minute) == moment.minute and int(hour) % 12 == moment.hour % 12
        for hour, minute in clocks
    )


# --- time zones


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, clock.replace(tzinfo=None), tzinfo=tz)


def _exists(moment: datetime, tz: tzinfo) -> bool:
    """False for a wall time skipped when clocks went forward."""
    back = moment.astimezone(UTC).astimezone(tz)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
