"""What a value must be to be stored at all: integer and time ranges shared by every input.

Inputs are typed at the edge (pydantic models in services and webhooks); these annotated types
keep values the database cannot hold (PostgreSQL BIGINT/INTEGER, SQLite's 64-bit integers)
or the calendar code cannot handle out of the domain, so a hostile number becomes a 4xx at
the edge instead of an error deep inside a transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
# Calls and events outside these years are garbage (a PBX clock gone wrong, a hostile value);
# the bounds also keep time-zone arithmetic on the cards far from datetime's limits.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Seconds = Annotated[int, Field(ge=0, le=INT32_MAX)]  # an INTEGER column


def fits_int64(value: Any) -> bool:
    return isinstance(value, int) and INT64_MIN <= value <= INT64_MAX


def in_time_range(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware < LATEST:
        raise ValueError(f"time must be between {EARLIEST.year} and {LATEST.year}")
    return aware


def from_unix(value: Any) -> datetime:
    """A unix time (int or digits) as an aware datetime; ValueError when it is not one."""
    try:
        seconds = int(value)
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"not a unix time: {value!r}"[:100]) from exc
    if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
        raise ValueError(f"unix time {seconds} is outside {EARLIEST.year}..{LATEST.year}")
    return datetime.fromtimestamp(seconds, tz=UTC)


SaneTime = Annotated[datetime, AfterValidator(in_time_range)]
