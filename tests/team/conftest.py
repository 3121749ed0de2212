"""The team inbox runs against both fakes, as conversations do: a forum group at the Bot API
(tests.fakes.telegram_api), WhatsApp clients at the Graph API."""

from tests.conversations.conftest import settings

__all__ = ["settings"]
