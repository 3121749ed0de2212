"""The hostile-input suite's settings and rig.

Example budgets are hypothesis profiles: `ci` (the default; derandomized and without an
example database, so every run tries the same inputs and stays within its time budget) and
`long` (`HYPOTHESIS_PROFILE=long`, used by bench/hostile.py: more examples, fresh each run).
`HOSTILE_EXAMPLES` overrides the number of examples per test in either.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

from bot.whatsapp.graph import Graph
from bot.whatsapp.sender import WhatsAppSender
from models import Channel
from tests import factories
from tests.hostile.strategies import EMPLOYEE_TG
from tests.hostile.support import CALLS_TOKEN, MANGO_KEY, MANGO_SALT, Rig

_COMMON = dict(
    deadline=None,
    database=None,
    print_blob=True,
    # One rig (database, web app, fake Bot API) serves all examples of a test: the invariant
    # compares row counts before and after each example, so they need not be reset.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
_BUDGET = os.environ.get("HOSTILE_EXAMPLES")
settings.register_profile("ci", max_examples=int(_BUDGET or 30), derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=int(_BUDGET or 300), **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
EXAMPLES: Counter[str] = Counter()  # examples run per endpoint, reported at the end


@pytest.fixture(autouse=True)
def _hostile_profile():  # type: ignore[no-untyped-def]
    settings.load_profile(PROFILE)
    yield
    settings.load_profile("default")


@pytest.fixture
async def rig(web, container, fake_tg, fake_wa, clock) -> Rig:  # type: ignore[no-untyped-def]
    """The product with one on-duty employee bound to Telegram; Mango, calls and WhatsApp
    (against the fake Graph API) switched on."""
    container.settings.calls_token = CALLS_TOKEN
    container.settings.mango_api_key, container.settings.mango_api_salt = MANGO_KEY, MANGO_SALT
    container.settings.whatsapp_app_secret = fake_wa.app_secret
    graph = Graph(fake_wa.base_url, fake_wa.token, fake_wa.phone_number_id)
    assert container.pump is not None
    container.pump.senders[Channel.WHATSAPP] = WhatsAppSender(graph, {}, clock)
    async with container.db.unit_of_work() as s:
        anna = await factories.employee(s, clock, name="Анна")
        anna.telegram_id, anna.extension = EMPLOYEE_TG, "101"
    return Rig(web, container, fake_tg, EXAMPLES)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if EXAMPLES:
        total = sum(EXAMPLES.values())
        listing = ", ".join(f"{name} {n}" for name, n in sorted(EXAMPLES.items()))
        terminalreporter.write_line(
            f"hostile inputs ({PROFILE} profile): {total} examples: {listing}"
        )
