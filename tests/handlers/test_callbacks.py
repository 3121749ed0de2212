"""Every button's callback data fits Telegram's 64 bytes even with the largest ids, and a
forged value out of range is simply not ours (the filter does not match)."""

from __future__ import annotations

import enum
import inspect
import re
import typing

import pytest
from aiogram.filters.callback_data import CallbackData
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import callbacks
from services.bounds import Int64

CLASSES = [
    c
    for c in vars(callbacks).values()
    if inspect.isclass(c) and issubclass(c, CallbackData) and c is not CallbackData
]
MAX_ID = 2**63 - 1


def _largest(cls: type[CallbackData]) -> CallbackData:
    values: dict[str, object] = {}
    for name, field in cls.model_fields.items():
        hint = field.annotation
        if inspect.isclass(hint) and issubclass(hint, enum.Enum):
            values[name] = max(hint, key=lambda member: len(str(member.value)))
        elif hint is str:
            values[name] = _longest_valid(cls, name)
        elif hint is bool:
            values[name] = True  # packed as "1"
        else:
            bounds = [m for m in field.metadata if hasattr(m, "le")]
            values[name] = bounds[0].le if bounds else MAX_ID
    return cls(**values)


def _longest_valid(cls: type[CallbackData], name: str) -> str:
    """The longest of some candidate strings the field accepts (its pattern decides)."""
    field = cls.model_fields[name]
    patterns = [m.pattern for m in field.metadata if getattr(m, "pattern", None)]
    candidates = [c * n for n in range(64, 0, -1) for c in ("9", "z", "a")]
    return next(c for c in candidates if all(re.fullmatch(p, c) for p in patterns))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_packed_data_fits_64_bytes_with_the_largest_values(cls):
    assert len(_largest(cls).pack().encode()) <= 64


def test_every_id_on_a_button_is_bounded():
    """An id field is Int64, so "99999999999999999999" cannot reach a bigint column."""
    for cls in CLASSES:
        for name, field in cls.model_fields.items():
            if name.endswith("_id"):
                assert field.annotation == typing.get_args(Int64)[0]
                assert field.metadata, f"{cls.__name__}.{name} is not bounded"


@pytest.mark.parametrize(
    "forged",
    ["cl:o:99999999999999999999:0", "cl:o:5:10001", "cl:o:5:-1", "cl:zz:5:0", "cl:o:5"],
)
def test_a_forged_client_button_does_not_unpack(forged):
    with pytest.raises((TypeError, ValueError)):
        callbacks.ClientCallback.unpack(forged)


def _values(cls: type[CallbackData]) -> st.SearchStrategy[CallbackData]:
    fields: dict[str, st.SearchStrategy[object]] = {}
    for name, field in cls.model_fields.items():
        hint = field.annotation
        if inspect.isclass(hint) and issubclass(hint, enum.Enum):
            fields[name] = st.sampled_from(list(hint))
        elif hint is str:
            (pattern,) = [m.pattern for m in field.metadata if getattr(m, "pattern", None)]
            fields[name] = st.from_regex(pattern, fullmatch=True)
        elif hint is bool:
            fields[name] = st.booleans()
        else:
            bounds = [m for m in field.metadata if hasattr(m, "le")]
            fields[name] = st.integers(0, bounds[0].le if bounds else MAX_ID)
    return st.builds(cls, **fields)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_buttons_are_packed_as_aiogram_packs_them_and_unpack_back(cls, data):
    value = data.draw(_values(cls))
    assert isinstance(value, callbacks.Packed)
    packed = value.pack()
    assert packed == CallbackData.pack(value)
    assert cls.unpack(packed) == value


def test_every_kind_of_button_has_a_prefix_of_its_own() -> None:
    kinds = [
        getattr(callbacks, name)
        for name in callbacks.__all__
        if isinstance(getattr(callbacks, name), type)
        and issubclass(getattr(callbacks, name), CallbackData)
    ]
    prefixes = [kind.__prefix__ for kind in kinds]
    assert len(kinds) > 25 and len(set(prefixes)) == len(prefixes)
