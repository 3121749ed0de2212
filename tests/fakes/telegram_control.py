"""Play the Telegram user against a running fake Bot API: send a message, press a button,
read a chat. HTTP endpoints on the fake, and a command line that talks to them.

    POST /_fake/send      {"from_id": 4242, "text": "/start abc", "first_name": "Anna"}
    POST /_fake/press     {"chat_id": 4242, "button": "Взять", "message_id": 1}
                          (or "data": "<callback data>"; "from_id" defaults to chat_id;
                          without message_id, the newest message with that button)
    GET  /_fake/messages?chat_id=4242

The update goes to the bot as Telegram would send it: to its webhook when one is set (with
the secret header), else to its next getUpdates. A press waits (up to 10 s) for the bot's
answerCallbackQuery and returns it.

    python -m tests.fakes.telegram_api send --from 4242 "/start abc"
    python -m tests.fakes.telegram_api press --chat 4242 --button Взять [--message 1]
    python -m tests.fakes.telegram_api messages --chat 4242
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram

ANSWER_WAIT = 10.0
COMMANDS = ("send", "press", "messages")


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def add_routes(app: web.Application, fake: FakeTelegram) -> None:
    control = Control(fake)
    app.middlewares.append(errors)
    app.router.add_post("/_fake/send", control.send)
    app.router.add_post("/_fake/press", control.press)
    app.router.add_get("/_fake/messages", control.messages)


class Control:
    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    async def send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        from_id = _int(body, "from_id")
        update = self.fake.message_update(
            from_id=from_id,
            text=str(body.get("text") or ""),
            first_name=str(body.get("first_name") or "Ivan"),
            username=body.get("username"),
        )
        return _ok({"update_id": await self._deliver(update)})

    async def press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat_id = _int(body, "chat_id")
        state, data = self._find(chat_id, body.get("message_id"), body)
        update = self.fake.callback_update(
            from_id=int(body.get("from_id") or chat_id), data=data, message=state["message"]
        )
        query_id = update["callback_query"]["id"]
        await self._deliver(update)
        answer = await self._answer_to(query_id)
        return _ok({"message_id": state["message_id"], "data": data, "answer": answer})

    async def messages(self, request: web.Request) -> web.Response:
        chat = request.query.get("chat_id")
        chat_id = int(chat) if chat and chat.lstrip("-").isdigit() else None
        shown = [_shown(s) for s in self.fake.sent_messages(chat_id)]
        return _ok(sorted(shown, key=lambda m: (m["chat_id"], m["message_id"])))

    def _find(
        self, chat_id: int, message_id: Any, body: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """The message and the callback data of the button the user means."""
        chat = sorted(self.fake.sent_messages(chat_id), key=lambda s: -s["message_id"])
        if message_id is not None:
            chat = [s for s in chat if s["message_id"] == int(message_id)]
            if not chat:
                raise ControlError(404, f"no message {message_id} in chat {chat_id}")
        if body.get("data"):
            if not chat:
                raise ControlError(404, f"no message in chat {chat_id}")
            return chat[0], str(body["data"])
        wanted = str(body.get("button") or "").casefold()
        for state in chat:
            found = [b for b in _buttons(state) if wanted and wanted in b["text"].casefold()]
            if len(found) > 1:
                raise ControlError(409, f"{wanted!r} matches several buttons: {found}")
            if found and "callback_data" in found[0]:
                return state, found[0]["callback_data"]
        offered = [b["text"] for s in chat for b in _buttons(s)]
        raise ControlError(
            404, f"no button {body.get('button')!r} in chat {chat_id}; buttons there: {offered}"
        )

    async def _deliver(self, update: dict[str, Any]) -> int:
        """To the webhook when one is set (Telegram stops getUpdates then), else polled."""
        if not self.fake.webhook_url:
            return self.fake.push_update(update)
        headers = {}
        if self.fake.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.fake.webhook_secret
        async with aiohttp.ClientSession() as http:
            async with http.post(self.fake.webhook_url, json=update, headers=headers) as answer:
                if answer.status != 200:
                    raise ControlError(502, f"the webhook answered {answer.status}")
        return int(update["update_id"])

    async def _answer_to(self, query_id: str) -> dict[str, Any] | None:
        try:
            [call] = await self.fake.wait_for(
                "answerCallbackQuery",
                timeout=ANSWER_WAIT,
                predicate=lambda c: c.params.get("callback_query_id") == query_id,
            )
        except AssertionError:
            return None  # the bot did not answer (not running, or not polling)
        return {"text": call.params.get("text"), "show_alert": bool(call.params.get("show_alert"))}


@web.middleware
async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ControlError as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=exc.status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ControlError(400, f"send a JSON object: {exc}") from None
    if not isinstance(body, dict):
        raise ControlError(400, "send a JSON object")
    return body


def _int(body: dict[str, Any], key: str) -> int:
    try:
        return int(body[key])
    except (KeyError, TypeError, ValueError):
        raise ControlError(400, f"{key} (a Telegram user or chat id) is required") from None


def _buttons(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in _rows(state) for b in row if isinstance(b, dict)]


def _shown(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "chat_id": state["chat_id"],
        "message_id": state["message_id"],
        "text": state["text"],
        "buttons": [[dict(b) for b in row] for row in _rows(state)],
        "edits": state["edits"],
    }


def _rows(state: dict[str, Any]) -> list[list[dict[str, Any]]]:
    markup = state.get("reply_markup")
    return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []


def _ok(result: Any) -> web.Response:
    return web.json_response(
        {"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


# --- the command line: a small client for the endpoints above --------------------------------


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except ControlError as exc:
        print(f"fake telegram: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.telegram_api", description="act as a Telegram user"
    )
    parser.add_argument(
        "--fake",
        default=os.environ.get("FAKE_TELEGRAM", "http://127.0.0.1:8081"),
        help="the running fake (default $FAKE_TELEGRAM or http://127.0.0.1:8081)",
    )
    sub = parser.add_subparsers(required=True)
    send = sub.add_parser("send", help="send the bot a message as a user")
    send.add_argument("--from", dest="from_id", type=int, required=True, help="user id")
    send.add_argument("--name", default="Ivan", help="the user's first name")
    send.add_argument("text")
    send.set_defaults(func=_send)
    press = sub.add_parser("press", help="press an inline button on a message in a chat")
    press.add_argument("--chat", type=int, required=True)
    press.add_argument("--message", type=int, help="message id (default: the newest with it)")
    press.add_argument("--button", help="button text, or a part of it (case ignored)")
    press.add_argument("--data", help="or the button's callback data")
    press.add_argument("--from", dest="from_id", type=int, help="who presses (default: --chat)")
    press.set_defaults(func=_press)
    messages = sub.add_parser("messages", help="show the messages the bot sent (as edited)")
    messages.add_argument("--chat", type=int, help="one chat (default: all)")
    messages.set_defaults(func=_messages)
    return parser


def _send(args: argparse.Namespace) -> int:
    body = {"from_id": args.from_id, "text": args.text, "first_name": args.name}
    result = _call(args.fake, "send", body)
    print(f"sent as {args.from_id} (update {result['update_id']})")
    return 0


def _press(args: argparse.Namespace) -> int:
    if not (args.button or args.data):
        raise ControlError(400, "say which button: --button TEXT or --data DATA")
    body = {
        "chat_id": args.chat,
        "message_id": args.message,
        "button": args.button,
        "data": args.data,
        "from_id": args.from_id,
    }
    result = _call(args.fake, "press", {k: v for k, v in body.items() if v is not None})
    answer = result["answer"]
    said = "no answer from the bot" if answer is None else answer.get("text") or "(silent)"
    alert = " (alert)" if answer and answer.get("show_alert") else ""
    print(f"pressed {result['data']!r} on message {result['message_id']}: {said}{alert}")
    return 0


def _messages(args: argparse.Namespace) -> int:
    query = f"?chat_id={args.chat}" if args.chat is not None else ""
    for message in _call(args.fake, f"messages{query}"):
        buttons = "".join(
            "\n    " + "  ".join(f"[{b.get('text')}]" for b in row) for row in message["buttons"]
        )
        edited = f" (edited {message['edits']}x)" if message["edits"] else ""
        print(
            f"--- chat={message['chat_id']} message_id={message['message_id']}{edited}\n"
            f"{message['text']}{buttons}"
        )
    return 0


def _call(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base.rstrip('/')}/_fake/{path}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_WAIT + 20) as response:
            return json.loads(response.read())["result"]
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("error") or exc.reason
        raise ControlError(exc.code, detail) from None
    except urllib.error.URLError as exc:
        raise ControlError(1, f"no fake Bot API at {base} ({exc.reason})") from None


def is_command(argv: list[str]) -> bool:
    """`python -m tests.fakes.telegram_api send …` (a client) rather than the server."""
    return any(arg in COMMANDS for arg in argv)
