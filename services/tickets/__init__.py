"""Support tickets: an employee asks the support desk; replies form a thread.

- `work`: raise, take (one wins), reply both ways (text, a photo or a file), close, the whole
  thread to a chat, and which ticket a message in a chat belongs to;
- `views`: the card, one reply, "my tickets", support's queue by category and age.
"""

from services.tickets.views import (
    PAGE_SIZE,
    CategoryLine,
    ReplyView,
    TicketCard,
    TicketLine,
    card,
    mine,
    queue,
    queue_of,
    reply_view,
    ticket_for,
)
from services.tickets.work import (
    MEDIA_MAX,
    Media,
    can_see,
    close,
    raise_ticket,
    reply,
    require_answer,
    require_see,
    show_thread,
    take,
    ticket_of_message,
)

__all__ = [
    "MEDIA_MAX",
    "PAGE_SIZE",
    "CategoryLine",
    "Media",
    "ReplyView",
    "TicketCard",
    "TicketLine",
    "can_see",
    "card",
    "close",
    "mine",
    "queue",
    "queue_of",
    "raise_ticket",
    "reply",
    "reply_view",
    "require_answer",
    "require_see",
    "show_thread",
    "take",
    "ticket_for",
    "ticket_of_message",
]
