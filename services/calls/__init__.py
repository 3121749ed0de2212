"""Calls: PBX events and summaries become call rows (`rows`), cards and missed-call leads
(`events`); `inputs` are the validated shapes every PBX adapter produces."""

from services.calls import inputs, rows
from services.calls.events import (
    Recording,
    attach_recording,
    record,
    record_event,
    record_many,
    record_summary,
    recording_of,
)

__all__ = [
    "Recording",
    "attach_recording",
    "inputs",
    "record",
    "record_event",
    "record_many",
    "record_summary",
    "recording_of",
    "rows",
]
