"""The Bot API client: answers parsed without rebuilding their models on every request (the
outbox pump sends every message through it)."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from pydantic._internal import _generics

from bot.telegram.factory import make_bot


@pytest.fixture
def models_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the pydantic generic models built from now on."""
    built: list[str] = []
    real = _generics.create_generic_submodel

    def counting(model_name: str, *args: Any) -> Any:
        built.append(model_name)
        return real(model_name, *args)

    monkeypatch.setattr(_generics, "create_generic_submodel", counting)
    return built


async def _requests(bot: Any, rounds: int) -> None:
    for n in range(rounds):
        sent = await bot.send_message(100, f"card {n}")
        await bot.edit_message_text(f"card {n}, taken", chat_id=100, message_id=sent.message_id)
        gc.collect()  # what the collector does now and then in a running process


async def test_answers_are_parsed_with_models_built_once(fake_tg, models_built):
    bot = make_bot(fake_tg.token, fake_tg.base_url)
    try:
        await _requests(bot, 1)
        first = len(models_built)
        await _requests(bot, 5)
    finally:
        await bot.session.close()
    assert len(models_built) == first, models_built[first:]
    assert len(fake_tg.sent_messages(100)) == 6
