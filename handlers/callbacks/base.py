"""What every button's callback data shares: packing without a model dump, a router's filter by
prefix, bounded page numbers."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters import Filter
from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData
from aiogram.types import CallbackQuery
from pydantic import Field


class Packed:
    """Packs callback data as aiogram's `CallbackData.pack` does (same string, same checks),
    without dumping the model to a dict first: a screen packs a dozen buttons, and the dump was
    most of the cost. Put it before CallbackData in the bases."""

    def pack(self: CallbackData) -> str:  # type: ignore[misc]
        kind = type(self)
        separator = kind.__separator__
        parts = [kind.__prefix__]
        for key in kind.model_fields:
            encoded = self._encode_value(key, getattr(self, key))
            if separator in encoded:
                raise ValueError(f"Separator symbol {separator!r} can not be used in {key}")
            parts.append(encoded)
        packed = separator.join(parts)
        if len(packed.encode()) > MAX_CALLBACK_LENGTH:
            raise ValueError(f"Resulted callback data is too long! {packed!r}")
        return packed


class Presses(Filter):
    """A router's own filter: only presses of buttons of these kinds reach its handlers. One
    check of the data's prefix per router instead of one unpacking attempt per handler (every
    press passes the routers in front of the one that answers it)."""

    def __init__(self, *kinds: type[CallbackData]) -> None:
        self.prefixes = frozenset(kind.__prefix__ + kind.__separator__ for kind in kinds)

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data or ""
        return any(data.startswith(prefix) for prefix in self.prefixes)


# A page number on a button; a forged one out of range is not ours (the filter does not match).
Page = Annotated[int, Field(ge=0, le=10_000)]
