"""Fake Telegram Bot API server speaking the real HTTP protocol (for tests and demos).

Point aiogram at it: ``Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))``.
Standalone: ``python -m tests.fakes.telegram_api --port 8081 --token 123:abc`` prints every
message the bot sends (chat id, text, inline buttons); ``send``, ``press`` and ``messages``
then act as a Telegram user against it (see tests/fakes/telegram_control.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import itertools
import json
import re
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import telegram_control

JSON_KEYS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",  # answerInlineQuery
        "button",
        "reaction",
    }
)
INT_KEYS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
        "from_chat_id",
        "cache_time",
        "icon_color",
    }
)
BOOL_KEYS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "show_alert",
        "is_personal",
        "disable_web_page_preview",
        "allow_sending_without_reply",
    }
)
TRUE_METHODS = (
    "answerCallbackQuery",
    "answerInlineQuery",
    "setMyCommands",
    "sendChatAction",
    "deleteMyCommands",
    "setChatMenuButton",
    "setMyDescription",
    "setMyShortDescription",
    "logOut",
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
CHAT_METHODS = ("sendmessage", "editmessagetext", "editmessagereplymarkup")
# Telegram's answers about forum topics (as seen in the wild; keyed on by the product).
THREAD_NOT_FOUND = "Bad Request: message thread not found"
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
TOPIC_NOT_MODIFIED = "Bad Request: TOPIC_NOT_MODIFIED"
NOT_A_FORUM = "Bad Request: the chat is not a forum"
NO_TOPIC_RIGHTS = "Bad Request: not enough rights to create a topic"
NO_PIN_RIGHTS = "Bad Request: not enough rights to manage pinned messages in the chat"
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_pin_messages",
    "can_manage_topics",
)
MessageHook = Callable[[str, dict[str, Any]], None]
# The Bot API's limits this fake enforces, as Telegram does (a 400 that kills the message).
TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_DATA_BYTES, ALERT_LIMIT = 4096, 1024, 64, 200
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"code", "pre", "blockquote", "tg-emoji"}
)
_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);"
)
_URL = re.compile(r"^(https?)://[A-Za-z0-9.-]+(:\d{1,5})?([/?#][!-~]*)?$|^tg://[!-~]+$")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int  # 0 while the request is still being answered, 499 if the client went away
    response: Any = None


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            self.body["parameters"] = {"retry_after": retry_after}
        self.status = status


@dataclass
class Topic:
    name: str
    closed: bool = False
    pinned: list[int] = field(default_factory=list)  # pinned message ids, newest last


@dataclass
class Group:
    """A supergroup the bot is in: with topics (`is_forum`) and the bot's admin rights."""

    title: str
    is_forum: bool = True
    bot_rights: dict[str, bool] | None = None  # None: the bot is a plain member
    admins: set[int] = field(default_factory=set)  # users who are the group's admins
    topics: dict[int, Topic] = field(default_factory=dict)  # message_thread_id → topic
    pinned: list[int] = field(default_factory=list)  # pinned outside any topic


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_KEYS:
        with contextlib.suppress(ValueError):
            return json.loads(value)
    if key in INT_KEYS and value.lstrip("-").isdigit():
        return int(value)
    if key in BOOL_KEYS and value in ("true", "false"):
        return value == "true"
    return value


# Telegram's send limits, when the fake enforces them (`limits=True`, `--limits`): about 30
# messages a second overall and one a second per chat; a send over them is answered 429 with
# retry_after, as Telegram does. Arrivals are counted, with a little slack for the network.
# A group takes about 20 messages a minute (`group_limit`: (count, seconds), scaled down in
# tests); every call that posts into a group (messages, topics, pins) counts there.
GLOBAL_PER_SECOND, CHAT_GAP = 30, 0.9
GROUP_LIMIT = (20, 60.0)
SENDS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendvideo", "sendaudio", "sendvoice"}
    | {"sendvideonote"}
)
GROUP_POSTS = SENDS | {"createforumtopic", "pinchatmessage", "editforumtopic"}


class FakeTelegram:
    def __init__(
        self,
        token: str = "7000000001:AAE-fake",
        bot_username: str = "chatcrm_test_bot",
        bot_id: int = 7000000001,
        *,
        limits: bool = False,
        group_limit: tuple[int, float] = GROUP_LIMIT,
    ) -> None:
        self.token, self.bot_username, self.bot_id = token, bot_username, bot_id
        self.limits = limits
        self.group_limit = group_limit
        self.chat_gap = CHAT_GAP
        self.group_posts: dict[int, deque[float]] = defaultdict(deque)
        # Group chats (chat id → title, forum flag, the bot's rights, members' roles, topics).
        self.groups: dict[int, Group] = {}
        self._sent_at: deque[float] = deque()  # accepted sends in the last second
        self._chat_sent_at: dict[int, float] = {}
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "ChatCRM Test Bot",
            "username": bot_username,
        }
        self.base_url, self.webhook_url = "", ""
        self.webhook_secret: str | None = None  # secret_token of the last setWebhook
        self.requests: list[Call] = []
        self.call_counts: Counter[str] = Counter()  # keyed by canonical method name
        self.on_message: MessageHook | None = None  # called with ("sent"|"edited", state)
        self._failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._holds: Counter[str] = Counter()  # requests to hold until release_held()
        self._released = asyncio.Event()
        self._chat_failures: dict[int, ApiError] = {}  # chat id → error for every send to it
        # Files uploaded with a send (method, file name, bytes), and reactions set by the bot
        # on any message ((chat, message id) → emoji list).
        self.uploads: list[tuple[str, str, bytes]] = []
        self.reactions: dict[tuple[int, int], list[str]] = {}
        self.host, self.port = "127.0.0.1", 0
        self._updates: deque[dict[str, Any]] = deque()
        self._update_seq = 100
        self._msg_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat_id, message_id)
        self._users: defaultdict[int, dict[str, Any]] = defaultdict(lambda: {"first_name": "Ivan"})
        self._cq_ids = itertools.count(4_200_000_000_000_000_001)
        self._call_event, self._update_event, self._closed = (asyncio.Event() for _ in range(3))
        self._runner: web.AppRunner | None = None
        handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit,
            "editMessageReplyMarkup": self._edit,
            "deleteMessage": self._delete_message,
            "sendPhoto": self._send_media,
            "sendDocument": self._send_media,
            "sendVideo": self._send_media,
            "sendAudio": self._send_media,
            "sendVoice": self._send_media,
            "sendVideoNote": self._send_media,
            "setMessageReaction": self._set_reaction,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "createForumTopic": self._create_topic,
            "editForumTopic": self._edit_topic,
            "closeForumTopic": self._close_topic,
            "reopenForumTopic": self._reopen_topic,
            "deleteForumTopic": self._delete_topic,
            "pinChatMessage": self._pin,
            "unpinChatMessage": self._unpin,
        }
        handlers.update({name: self._true for name in TRUE_METHODS})
        self._canonical = {name.lower(): name for name in handlers}
        self._handlers = {name.lower(): fn for name, fn in handlers.items()}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_get("/_fake/calls", self._recorded)  # for benchmarks in another process
        telegram_control.add_routes(app, self)  # act as a user: send, press, read a chat
        self._closed.clear()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.host, self.port = host, self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{self.port}"
        return self.base_url

    async def refuse_connections(self) -> None:
        """Stop listening (clients get "connection refused") until `accept_connections()`."""
        await self.stop()

    async def accept_connections(self) -> None:
        """Listen again on the same address, as a Bot API back from an outage would."""
        await self.start(self.host, self.port)

    async def stop(self) -> None:
        self._closed.set()
        self._released.set()
        self._update_event.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _recorded(self, request: web.Request) -> web.Response:
        """Recorded calls as JSON (`at` is time.monotonic(), one clock for the machine)."""
        return await _recorded_calls(self, request)

    def calls(self, method: str) -> list[Call]:
        return [c for c in self.requests if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(s)
            for s in self._messages.values()
            if chat_id is None or s["chat_id"] == chat_id
        ]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [c for c in self.calls(method) if predicate is None or predicate(c)]
            remaining = deadline - loop.time()
            if len(found) >= count:
                return found
            if remaining <= 0:
                listing = (
                    "\n".join(
                        f"  [{c.status}] {c.method} "
                        f"{json.dumps(c.params, ensure_ascii=False, default=str)[:200]}"
                        for c in self.requests[-30:]
                    )
                    or "  (no calls at all)"
                )
                raise AssertionError(
                    f"expected >= {count} {method} call(s) within {timeout}s"
                    f" (matched {len(found)}); recorded calls:\n{listing}"
                )
            self._call_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._call_event.wait(), remaining)

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self._failures[method.lower()].append(ApiError(status, description, retry_after))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        self._delays[method.lower()].extend([seconds] * times)

    def hold_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls get no answer until `release_held()` (or the client gives up)."""
        self._released.clear()
        self._holds[method.lower()] += times

    def release_held(self) -> None:
        """Answer every held call now (normally)."""
        self._released.set()

    def fail_chat(self, chat_id: int, *, status: int, description: str) -> None:
        """Every sendMessage/edit to this chat fails so, until `heal_chat` (a user who blocked
        the bot: 403 "Forbidden: bot was blocked by the user")."""
        self._chat_failures[chat_id] = ApiError(status, description)

    def heal_chat(self, chat_id: int) -> None:
        self._chat_failures.pop(chat_id, None)

    def _next_update_id(self) -> int:
        self._update_seq += 1
        return self._update_seq - 1

    def push_update(self, update: dict[str, Any]) -> int:
        if update.get("update_id") is None:
            update["update_id"] = self._next_update_id()
        self._update_seq = max(self._update_seq, update["update_id"] + 1)
        self._updates.append(update)
        self._update_event.set()
        return int(update["update_id"])

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "language_code": "ru", **self._users[user_id]}

    def _chat(self, chat_id: int) -> dict[str, Any]:
        group = self.groups.get(chat_id)
        if group is not None:
            return {
                "id": chat_id,
                "type": "supergroup",
                "title": group.title,
                **({"is_forum": True} if group.is_forum else {}),
            }
        return {"id": chat_id, "type": "private", **self._users[chat_id]}

    # --- groups and forum topics, as a group's people see them

    def add_group(
        self,
        chat_id: int,
        title: str = "Команда",
        *,
        is_forum: bool = True,
        bot_admin: bool = True,
        admins: tuple[int, ...] = (),
        **rights: bool,
    ) -> Group:
        """A supergroup with the bot in it: an admin with every right unless told otherwise
        (`can_manage_topics=False`), or a plain member (`bot_admin=False`)."""
        bot_rights = {name: True for name in ADMIN_RIGHTS} | rights if bot_admin else None
        self.groups[chat_id] = Group(title, is_forum, bot_rights, set(admins))
        return self.groups[chat_id]

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Someone deletes the topic with every message in it (Telegram tells the bot nothing)."""
        self.groups[chat_id].topics.pop(thread_id, None)
        for key in [k for k, s in self._messages.items() if k[0] == chat_id]:
            if self._messages[key]["message"].get("message_thread_id") == thread_id:
                del self._messages[key]

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        self.groups[chat_id].topics[thread_id].closed = True

    def topic_messages(self, chat_id: int, thread_id: int) -> list[dict[str, Any]]:
        """The messages of one topic as they look now (the bot's and those pushed as updates)."""
        return [
            copy.deepcopy(s)
            for (chat, _), s in sorted(self._messages.items())
            if chat == chat_id and s["message"].get("message_thread_id") == thread_id
        ]

    def _group(self, params: dict[str, Any]) -> Group:
        group = self.groups.get(self._chat_id(params))
        if group is None:
            raise ApiError(400, "Bad Request: chat not found")
        return group

    def _topic(self, params: dict[str, Any]) -> Topic:
        group = self._group(params)
        topic = group.topics.get(int(params.get("message_thread_id") or 0))
        if topic is None:
            raise ApiError(400, THREAD_NOT_FOUND)
        return topic

    def _right(self, group: Group, name: str, error: str) -> None:
        if not (group.bot_rights or {}).get(name):
            raise ApiError(400, error)

    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        return {
            **self._chat(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        group, user_id = self._group(params), int(params.get("user_id") or 0)
        if user_id == self.bot_id:
            if group.bot_rights is None:
                return {"status": "member", "user": dict(self.bot_user)}
            return {
                "status": "administrator",
                "user": dict(self.bot_user),
                "can_be_edited": False,
                "is_anonymous": False,
                **{name: group.bot_rights.get(name, False) for name in ADMIN_RIGHTS},
            }
        user = self._user(user_id)
        if user_id in group.admins:
            return {"status": "creator", "user": user, "is_anonymous": False}
        return {"status": "member", "user": user}

    async def _create_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        group, chat_id = self._group(params), self._chat_id(params)
        if not group.is_forum:
            raise ApiError(400, NOT_A_FORUM)
        self._right(group, "can_manage_topics", NO_TOPIC_RIGHTS)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(
                400,
                "Bad Request: TOPIC_TITLE_EMPTY"
                if not name
                else "Bad Request: topic name is too long",
            )
        # A topic's id is the id of the service message that opened it.
        thread_id = next(self._msg_ids[chat_id])
        group.topics[thread_id] = Topic(name)
        return {"message_thread_id": thread_id, "name": name, "icon_color": 7322096}

    async def _edit_topic(self, params: dict[str, Any]) -> bool:
        group, topic = self._group(params), self._topic(params)
        self._right(group, "can_manage_topics", NO_TOPIC_RIGHTS)
        name = params.get("name")
        if name is None or name == topic.name:
            raise ApiError(400, TOPIC_NOT_MODIFIED)
        if not 1 <= len(str(name)) <= 128:
            raise ApiError(400, "Bad Request: topic name is too long")
        topic.name = str(name)
        return True

    async def _close_topic(self, params: dict[str, Any]) -> bool:
        return self._set_closed(params, True)

    async def _reopen_topic(self, params: dict[str, Any]) -> bool:
        return self._set_closed(params, False)

    def _set_closed(self, params: dict[str, Any], closed: bool) -> bool:
        group, topic = self._group(params), self._topic(params)
        self._right(group, "can_manage_topics", NO_TOPIC_RIGHTS)
        if topic.closed == closed:
            raise ApiError(400, TOPIC_NOT_MODIFIED)
        topic.closed = closed
        return True

    async def _delete_topic(self, params: dict[str, Any]) -> bool:
        group = self._group(params)
        self._right(group, "can_delete_messages", "Bad Request: not enough rights")
        self._topic(params)
        self.delete_topic(self._chat_id(params), int(params["message_thread_id"]))
        return True

    async def _pin(self, params: dict[str, Any]) -> bool:
        group, chat_id = self._group(params), self._chat_id(params)
        self._right(group, "can_pin_messages", NO_PIN_RIGHTS)
        state = self._messages.get((chat_id, int(params.get("message_id") or 0)))
        if state is None:
            raise ApiError(400, "Bad Request: message to pin not found")
        thread = state["message"].get("message_thread_id")
        where = group.topics[thread].pinned if thread in group.topics else group.pinned
        where.append(state["message_id"])
        return True

    async def _unpin(self, params: dict[str, Any]) -> bool:
        group = self._group(params)
        message_id = int(params.get("message_id") or 0)
        for where in [group.pinned, *(t.pinned for t in group.topics.values())]:
            if message_id in where:
                where.remove(message_id)
        return True

    def _thread_of(self, params: dict[str, Any]) -> dict[str, Any]:
        """A send's topic in a forum group: refused as Telegram does when it is gone or
        closed; what the sent message then carries."""
        chat_id = self._chat_id(params)
        group, thread = self.groups.get(chat_id), params.get("message_thread_id")
        if group is None or not group.is_forum or thread in (None, ""):
            return {}
        topic = self._topic(params)
        if topic.closed:
            raise ApiError(400, TOPIC_CLOSED)
        return {"message_thread_id": int(thread), "is_topic_message": True}

    def message_update(
        self,
        *,
        from_id: int,
        text: str,
        first_name: str = "Ivan",
        username: str | None = None,
        chat_id: int | None = None,
        extra: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A message as Telegram delivers it; `extra` adds fields (a `contact`, `reply_to_message`,
        `forward_origin` ...), and a `text` of "" leaves the text out (a contact has none).
        In a group (`chat_id`), `thread_id` puts it in that forum topic; it is kept, so the
        topic shows it as the group's people see it."""
        names = {"first_name": first_name, "username": username}
        self._users[from_id] = {k: v for k, v in names.items() if v}
        chat_id = from_id if chat_id is None else chat_id
        message: dict[str, Any] = {
            "message_id": next(self._msg_ids[chat_id]),
            "date": int(time.time()),
            "from": self._user(from_id),
            "chat": self._chat(chat_id),
            "text": text,
            **({"message_thread_id": thread_id, "is_topic_message": True} if thread_id else {}),
            **(extra or {}),
        }
        if not text:
            del message["text"]
        if chat_id in self.groups:
            self._messages[(chat_id, message["message_id"])] = {
                "chat_id": chat_id,
                "message_id": message["message_id"],
                "text": text,
                "reply_markup": None,
                "parse_mode": None,
                "edits": 0,
                "message": copy.deepcopy(message),
                "by_user": from_id,
            }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
        return {"update_id": self._next_update_id(), "message": message}

    def inline_update(self, *, from_id: int, query: str, offset: str = "") -> dict[str, Any]:
        """An inline query (`@bot query` typed in any chat)."""
        self._users.setdefault(from_id, {"first_name": "Ivan"})
        return {
            "update_id": self._next_update_id(),
            "inline_query": {
                "id": str(next(self._cq_ids)),
                "from": self._user(from_id),
                "query": query,
                "offset": offset,
                "chat_type": "private",
            },
        }

    def callback_update(self, *, from_id: int, data: str, message: Any) -> dict[str, Any]:
        if hasattr(message, "model_dump"):  # an aiogram Message
            message = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        chat_id = message["chat"]["id"] if "chat" in message else message["chat_id"]
        state = self._messages.get((chat_id, message["message_id"]))
        msg = copy.deepcopy(state["message"] if state else message)
        return {
            "update_id": self._next_update_id(),
            "callback_query": {
                "id": str(next(self._cq_ids)),
                "from": self._user(from_id),
                "data": data,
                "chat_instance": str(abs(chat_id) * 31 + self.bot_id),
                "message": msg,
            },
        }

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json" and request.can_read_body:
            body = await request.json()
            raw.update(body if isinstance(body, dict) else {})
        elif request.method == "POST":
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    name = request.match_info.get("method", "")
                    self.uploads.append((name, value.filename, value.file.read()))
                    value = f"upload:{value.filename}"
                raw[key] = value
        return {key: _decode(key, value) for key, value in raw.items()}

    @staticmethod
    def file_bytes(file_id: str) -> bytes:
        """What `getFile` + download give for a file id (any id is a file here)."""
        return f"telegram-file:{file_id}".encode()

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{abs(hash(file_id))}",
            "file_size": len(self.file_bytes(file_id)),
            "file_path": f"documents/{file_id}.bin",
        }

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        file_id = path.removeprefix("documents/").removesuffix(".bin")
        return web.Response(body=self.file_bytes(file_id))

    async def _set_reaction(self, params: dict[str, Any]) -> bool:
        reaction = params.get("reaction") or []
        emoji = [r.get("emoji") for r in reaction if isinstance(r, dict)]
        self.reactions[(self._chat_id(params), int(params.get("message_id") or 0))] = emoji
        return True

    async def _dispatch(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        method = self._canonical.get(name.lower(), name)
        call = Call(method, await self._read_params(request), time.monotonic(), 0)
        self.requests.append(call)
        self.call_counts[method] += 1
        self._call_event.set()
        try:
            call.status, call.response = await self._answer(request.match_info["token"], call)
        finally:
            call.status = call.status or 499  # cancelled: the client went away
            self._call_event.set()  # wake wait_for() predicates that look at the answer
        return web.json_response(
            call.response, status=call.status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )

    async def _answer(self, token: str, call: Call) -> tuple[int, dict[str, Any]]:
        key = call.method.lower()
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if self._delays[key]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._delays[key].popleft())
        if self._holds[key] > 0:
            self._holds[key] -= 1
            await self._released.wait()
        try:
            if self._failures[key]:
                raise self._failures[key].popleft()
            chat_id = call.params.get("chat_id")
            if key in CHAT_METHODS and isinstance(chat_id, int) and chat_id in self._chat_failures:
                raise self._chat_failures[chat_id]
            if self.limits and key in GROUP_POSTS:
                self._within_limits(call, send=key in SENDS)
            if key not in self._handlers:
                raise ApiError(404, "Not Found")
            return 200, {"ok": True, "result": await self._handlers[key](call.params)}
        except ApiError as e:
            return e.status, e.body

    def _within_limits(self, call: Call, *, send: bool = True) -> None:
        """429 for a call over Telegram's limits (nothing is done); a group's posts are
        counted in `group_posts` (accepted ones only)."""
        now, chat_id = call.at, self._chat_id(call.params)
        posts = self.group_posts[chat_id] if chat_id in self.groups else None
        if posts is not None:
            count, window = self.group_limit
            while posts and posts[0] <= now - window:
                posts.popleft()
            if len(posts) >= count:
                raise ApiError(429, "Too Many Requests: retry after 5", retry_after=5)
        if send:
            while self._sent_at and self._sent_at[0] <= now - 1.0:
                self._sent_at.popleft()
            if len(self._sent_at) >= GLOBAL_PER_SECOND:
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
            last = self._chat_sent_at.get(chat_id)
            if last is not None and now - last < self.chat_gap:
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
            self._sent_at.append(now)
            self._chat_sent_at[chat_id] = now
        if posts is not None:
            posts.append(now)

    async def _true(self, params: dict[str, Any]) -> bool:
        if len(str(params.get("text") or "")) > ALERT_LIMIT:  # answerCallbackQuery's alert
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _send_media(self, params: dict[str, Any]) -> dict[str, Any]:
        """sendPhoto/sendDocument: the file is not kept, the caption limit is enforced."""
        caption = str(params.get("caption") or "")
        if caption:
            self._check_text(caption, params.get("parse_mode"), CAPTION_LIMIT)
        sent = await self._send_message({**params, "text": caption or "[media]"})
        kind = next(
            (
                k
                for k in ("photo", "document", "video", "audio", "voice", "video_note")
                if k in params
            ),
            "",
        )
        state = self._messages[(self._chat_id(params), sent["message_id"])]
        state.update(media=kind, file=params.get(kind))
        return sent

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        allowed, loop = params.get("allowed_updates") or None, asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while True:
            while self._updates and (
                (offset > 0 and self._updates[0]["update_id"] < offset)
                or (offset < 0 and len(self._updates) > -offset)
            ):
                self._updates.popleft()
            batch = [u for u in self._updates if not allowed or any(k in u for k in allowed)]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closed.is_set():
                return copy.deepcopy(batch[: min(max(limit, 1), 100)])
            self._update_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_event.wait(), remaining)

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url, self.webhook_secret = params.get("url") or "", params.get("secret_token")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        return await self._set_webhook({"drop_pending_updates": params.get("drop_pending_updates")})

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> int:
        value = params.get("chat_id")
        if value in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(value, str) and not value.lstrip("-").isdigit():
            raise ApiError(400, "Bad Request: chat not found")
        return int(value)

    @staticmethod
    def _check_text(text: str, parse_mode: Any = None, limit: int = TEXT_LIMIT) -> None:
        """Stricter than Telegram in one way: the length counts HTML tags too."""
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > limit:
            what = "message is too long" if limit == TEXT_LIMIT else "message caption is too long"
            raise ApiError(400, f"Bad Request: {what}")
        if str(parse_mode).lower() == "html":
            _check_html(text)

    @staticmethod
    def _markup(params: dict[str, Any]) -> Any:
        markup = params.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []:
            for button in row:
                _check_button(button)
        return markup

    @staticmethod
    def _inline(markup: Any) -> dict[str, Any]:  # only inline keyboards are echoed in a Message
        is_inline = isinstance(markup, dict) and "inline_keyboard" in markup
        return {"reply_markup": markup} if is_inline else {}

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, text = self._chat_id(params), str(params.get("text") or "")
        self._check_text(text, params.get("parse_mode"))
        markup = self._markup(params)
        thread = self._thread_of(params)
        message = {
            "message_id": next(self._msg_ids[chat_id]),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
            **thread,
            **self._inline(markup),
        }
        state = {
            "chat_id": chat_id,
            "message_id": message["message_id"],
            "text": text,
            "reply_markup": markup,
            "parse_mode": params.get("parse_mode"),
            "edits": 0,
            "message": message,
        }
        self._messages[(chat_id, message["message_id"])] = state
        if self.on_message:
            self.on_message("sent", state)
        return copy.deepcopy(message)

    async def _edit(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        if params.get("message_id") in (None, ""):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        state = self._messages.get((self._chat_id(params), int(params["message_id"])))
        if state is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        text, markup = state["text"], self._markup(params)
        if "text" in params:  # editMessageText; omitting reply_markup removes the keyboard
            self._check_text(text := str(params["text"] or ""), params.get("parse_mode"))
        if text == state["text"] and markup == state["reply_markup"]:
            raise ApiError(400, NOT_MODIFIED)
        if "text" in params:
            state["parse_mode"] = params.get("parse_mode")
        message = state["message"]
        message.pop("reply_markup", None)
        message.update(text=text, edit_date=int(time.time()), **self._inline(markup))
        state.update(text=text, reply_markup=markup, edits=state["edits"] + 1)
        if self.on_message:
            self.on_message("edited", state)
        return copy.deepcopy(message)

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        self._messages.pop((self._chat_id(params), int(params.get("message_id") or 0)), None)
        return True


def _check_html(text: str) -> None:
    """Telegram's HTML parse mode: only its tags, balanced, and only real entities."""
    stack: list[str] = []
    position = 0
    for match in _HTML_TOKEN.finditer(text):
        if "<" in text[position : match.start()] or "&" in text[position : match.start()]:
            break
        position = match.end()
        closing, tag = match.group(1), (match.group(2) or "").lower()
        if match.group(4) is not None:
            continue
        if tag not in HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported tag {tag!r}")
        if not closing:
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag {tag!r}")
    if "<" in text[position:] or "&" in text[position:]:
        raise ApiError(400, "Bad Request: can't parse entities: unescaped '<' or '&'")
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed tag {stack[-1]!r}")


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text") or "").strip():
        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode())
        if not 1 <= size <= CALLBACK_DATA_BYTES:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    if "url" in button and not _URL.match(str(button["url"])):
        raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


async def _recorded_calls(fake: FakeTelegram, request: web.Request) -> web.Response:
    method = request.query.get("method")
    calls = fake.calls(method) if method else fake.requests
    return web.json_response(
        [{"method": c.method, "params": c.params, "at": c.at, "status": c.status} for c in calls],
        dumps=lambda v: json.dumps(v, default=str),
    )


def _print_message(event: str, state: dict[str, Any]) -> None:
    markup = state["reply_markup"] if isinstance(state["reply_markup"], dict) else {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    buttons = "".join(
        "\n    " + "  ".join(f"[{b.get('text') if isinstance(b, dict) else b}]" for b in row)
        for row in rows
    )
    print(
        f"--- {event} chat={state['chat_id']} message_id={state['message_id']}\n"
        f"{state['text']}{buttons}",
        flush=True,
    )


async def _serve(args: argparse.Namespace) -> None:
    bot_id = int(args.token.split(":")[0]) if args.token.split(":")[0].isdigit() else 7000000001
    fake = FakeTelegram(
        token=args.token, bot_username=args.username, bot_id=bot_id, limits=args.limits
    )
    if not args.quiet:
        fake.on_message = _print_message
    base = await fake.start(host=args.host, port=args.port)
    print(
        f"Fake Telegram Bot API on {base} (token {args.token}); set TELEGRAM_API_BASE={base}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if telegram_control.is_command(argv):  # send / press / messages: a client of a running fake
        sys.exit(telegram_control.main(argv))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (
        ("--host", "127.0.0.1"),
        ("--port", 8081),
        ("--token", "7000000001:AAE-fake"),
        ("--username", "chatcrm_test_bot"),
    ):
        parser.add_argument(flag, default=default, type=type(default))
    parser.add_argument("--quiet", action="store_true", help="don't print messages")
    parser.add_argument(
        "--limits", action="store_true", help="answer 429 over Telegram's send limits"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
