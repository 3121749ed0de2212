"""The team inbox: a staff forum supergroup where every client has a topic.

- `bind` (inboxes): `/bind_team` makes a group the inbox of an office or of the company,
  once Telegram says the bot may manage topics, pin and delete there;
- `clients_changed` (topics): anything a client's topic shows changed; a step is queued that
  brings the topic in step (opening it first, or again after it was deleted);
- `answer` / `claim` (answering): an employee writes in a topic (to the client, or a note), or
  presses Take on its card;
- `settled` (topics): what a step did, recorded with its result.
"""

from services.team.answering import Answered, NoConversation, TakenAlready, answer, claim
from services.team.inboxes import (
    NEEDED_RIGHTS,
    Bound,
    GroupFacts,
    GroupNotReady,
    bind,
    of_chat,
    require_binder,
    set_others_may_write,
)
from services.team.topics import (
    TEAM_SYNC,
    clients_changed,
    mark_shown,
    of_thread,
    settled,
    topic_changed,
)
from services.team.view import CardFacts, Pending, TopicState, copy_in_topic, state

__all__ = [
    "NEEDED_RIGHTS",
    "TEAM_SYNC",
    "Answered",
    "Bound",
    "CardFacts",
    "GroupFacts",
    "GroupNotReady",
    "NoConversation",
    "Pending",
    "TakenAlready",
    "TopicState",
    "answer",
    "bind",
    "claim",
    "clients_changed",
    "copy_in_topic",
    "mark_shown",
    "of_chat",
    "of_thread",
    "require_binder",
    "set_others_may_write",
    "settled",
    "state",
    "topic_changed",
]
