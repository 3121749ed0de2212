"""Conversations with clients on any channel: one history per client, whatever the messenger.

- `receive_many` / `receive`: a client's messages (from a webhook or the bot), stored once,
  a lead opened by the first, later ones relayed to whoever answers (services.conversations
  .relay);
- `write`: an employee's reply (to the client's channel, through the outbox) or note (never
  leaves); `conversation_of` finds the conversation a staff Telegram message stands for;
- `record_statuses`: the provider's delivery statuses, forward only;
- `settled`: the outbox pump's results for conversation rows (services.conversations.delivery);
- channels are plug-ins: `ChannelRules` registered by each adapter (channels.register).
"""

from services.conversations.channels import ChannelRules, register, rules_of
from services.conversations.client_side import CLIENT_NOTICE, link_phone
from services.conversations.delivery import settled
from services.conversations.failures import Failure, explain
from services.conversations.handover import HISTORY, Said, candidates, hand_over, history
from services.conversations.inputs import IncomingMessage, Kind, Media, StatusUpdate
from services.conversations.notices import DELIVERY_FAILED, STATUS_MARK
from services.conversations.receiving import Received, receive, receive_many
from services.conversations.relay import CLIENT_MESSAGE
from services.conversations.replies import (
    CLIENT_REPLY,
    TEMPLATE,
    WindowClosed,
    Written,
    conversation_of,
    require,
    retry,
    send_template,
    template_of,
    write,
)
from services.conversations.statuses import forget_early_statuses
from services.conversations.statuses import record as record_statuses
from services.conversations.views import (
    About,
    MessageView,
    about,
    copy_in,
    latest_shown,
    message,
    other_client_since,
)

__all__ = [
    "CLIENT_MESSAGE",
    "CLIENT_NOTICE",
    "CLIENT_REPLY",
    "DELIVERY_FAILED",
    "HISTORY",
    "STATUS_MARK",
    "TEMPLATE",
    "About",
    "ChannelRules",
    "Failure",
    "IncomingMessage",
    "Kind",
    "Media",
    "MessageView",
    "Received",
    "Said",
    "StatusUpdate",
    "WindowClosed",
    "Written",
    "about",
    "candidates",
    "conversation_of",
    "copy_in",
    "explain",
    "forget_early_statuses",
    "hand_over",
    "history",
    "latest_shown",
    "link_phone",
    "message",
    "other_client_since",
    "receive",
    "receive_many",
    "record_statuses",
    "register",
    "require",
    "retry",
    "rules_of",
    "send_template",
    "settled",
    "template_of",
    "write",
]
