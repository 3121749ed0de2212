"""Fake WhatsApp Cloud API (Meta Graph API) speaking the real HTTP protocol, and the webhook
notifications Meta sends, signed as Meta signs them (PROTOCOLS.md §2).

    fake = FakeWhatsApp(); await fake.start()      # WHATSAPP_API_BASE = fake.base_url
    fake.fail_next(131047)                         # the next send is refused so
    body, headers = fake.notification(fake.text("79120001122", "Здравствуйте", name="Иван"))
    await web.post("/webhooks/whatsapp", data=body, headers=headers)

Sends are recorded (`sent`), uploads kept, and a client's media served by id: `GET /{media-id}`
gives a URL that expires (`url_ttl`, or `expire_urls()` at once), as Meta's do after minutes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_VERSION = "v23.0"
ERRORS = {
    131047: "Re-engagement message",
    130429: "Rate limit hit",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131026: "Message undeliverable",
    131053: "Media upload error",
    131051: "Unsupported message type",
    190: "Error validating access token",
}


@dataclass
class Sent:
    body: dict[str, Any]
    wamid: str
    at: float


@dataclass
class Media:
    data: bytes
    mime: str
    url_token: int = 0
    issued_at: float = field(default_factory=time.monotonic)


class FakeWhatsApp:
    def __init__(
        self,
        token: str = "wa-test-token",
        phone_number_id: str = "106540352242922",
        app_secret: str = "wa-app-secret",
        *,
        url_ttl: float = 300.0,
        rate: float | None = None,
    ) -> None:
        """`rate`: messages a second the number may send (Meta's default is 80); a send over
        it is refused with 130429, as Meta does. None: no limit."""
        self.token, self.phone_number_id, self.app_secret = token, phone_number_id, app_secret
        self.rate = rate
        self._recent: deque[float] = deque()  # arrivals of the last second (with `rate`)
        self.url_ttl = url_ttl
        self.sent: list[Sent] = []
        self.refused: list[tuple[int, dict[str, Any]]] = []  # (code, body) of refused sends
        self.uploads: list[tuple[str, bytes]] = []  # (mime, bytes)
        self.media: dict[str, Media] = {}
        self.downloads: list[str] = []  # media ids whose bytes were fetched
        self.expired_fetches = 0
        self.planned_ids: deque[str] = deque()  # ids the next sends get (a status may come first)
        self.expire_next_download = False  # the next download finds its URL expired
        self._failures: dict[str, deque[int]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sent_event = asyncio.Event()
        self.host, self.port, self.base_url = "127.0.0.1", 0, ""

    # --- the server

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post(r"/{version:v\d+\.\d+}/{phone}/messages", self._messages)
        app.router.add_post(r"/{version:v\d+\.\d+}/{phone}/media", self._upload)
        app.router.add_get(r"/{version:v\d+\.\d+}/{media_id}", self._media_info)
        app.router.add_get("/_media/{media_id}/{token}", self._media_bytes)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{self.port}/{API_VERSION}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def fail_next(self, code: int, *, times: int = 1, what: str = "messages") -> None:
        """The next `times` sends (or `what="media"` uploads) are refused with `code`."""
        self._failures[what].extend([code] * times)

    def add_media(self, media_id: str, data: bytes, mime: str = "image/jpeg") -> None:
        self.media[media_id] = Media(data, mime)

    def expire_urls(self) -> None:
        """Every download URL handed out so far stops working (as after five minutes)."""
        for media in self.media.values():
            media.url_token += 1

    async def wait_sent(self, count: int, timeout: float = 5.0) -> list[Sent]:  # noqa: ASYNC109
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.sent) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"expected {count} sends, got {len(self.sent)}: {self.sent}")
            self._sent_event.clear()
            try:
                await asyncio.wait_for(self._sent_event.wait(), remaining)
            except TimeoutError:
                pass
        return self.sent

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    @staticmethod
    def error(code: int, *, status: int = 400) -> web.Response:
        title = ERRORS.get(code, "Error")
        body = {
            "error": {
                "message": f"(#{code}) {title}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": title},
                "fbtrace_id": "AbCdEf123",
            }
        }
        return web.json_response(body, status=401 if code == 190 else status)

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self.error(190)
        if request.match_info["phone"] != self.phone_number_id:
            return self.error(100)
        body = await request.json()
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return self.error(100)
        if self._failures["messages"]:
            code = self._failures["messages"].popleft()
            self.refused.append((code, body))
            return self.error(code)
        if self.rate is not None:
            now = time.monotonic()
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate:
                self.refused.append((130429, body))
                return self.error(130429)
            self._recent.append(now)
        kind = body.get("type")
        if kind == "text" and len(body["text"]["body"]) > 4096:
            return self.error(100)
        wamid = (
            self.planned_ids.popleft() if self.planned_ids else f"wamid.HBgL{next(self._ids):012d}"
        )
        self.sent.append(Sent(body, wamid, time.monotonic()))
        self._sent_event.set()
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self.error(190)
        form = await request.post()
        file = form.get("file")
        if not isinstance(file, web.FileField) or form.get("messaging_product") != "whatsapp":
            return self.error(100)
        if self._failures["media"]:
            return self.error(self._failures["media"].popleft())
        data = file.file.read()
        self.uploads.append((str(form.get("type")), data))
        media_id = f"{next(self._ids) + 900000000000000}"
        self.media[media_id] = Media(data, str(form.get("type")))
        return web.json_response({"id": media_id})

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self.error(190)
        media_id = request.match_info["media_id"]
        media = self.media.get(media_id)
        if media is None:
            return self.error(100, status=404)
        media.url_token += 1  # every call gives a new URL; the older ones stop working
        media.issued_at = time.monotonic()
        root = self.base_url.rsplit("/", 1)[0]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{root}/_media/{media_id}/{media.url_token}",
                "mime_type": media.mime,
                "sha256": hashlib.sha256(media.data).hexdigest(),
                "file_size": len(media.data),
                "id": media_id,
            }
        )

    async def _media_bytes(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        media = self.media.get(request.match_info["media_id"])
        fresh = time.monotonic() - (media.issued_at if media else 0) < self.url_ttl
        if self.expire_next_download:
            self.expire_next_download, fresh = False, False
        if media is None or request.match_info["token"] != str(media.url_token) or not fresh:
            self.expired_fetches += 1
            return web.Response(status=404, text="URL signature expired")
        self.downloads.append(request.match_info["media_id"])
        return web.Response(body=media.data, content_type=media.mime)

    # --- notifications, as Meta posts them to the webhook

    def notification(
        self, *items: dict[str, Any], statuses: list[dict[str, Any]] | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A signed `POST /webhooks/whatsapp` body with these messages (from `text()`,
        `media_message()`, ...) and statuses: (raw bytes, headers)."""
        messages = [m["message"] for m in items]
        contacts = {m["contact"]["wa_id"]: m["contact"] for m in items}
        value: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550783881",
                "phone_number_id": self.phone_number_id,
            },
        }
        if messages:
            value |= {"contacts": list(contacts.values()), "messages": messages}
        if statuses:
            value["statuses"] = statuses
        body = {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}
            ],
        }
        return self.signed(json.dumps(body).encode())

    def signed(self, raw: bytes) -> tuple[bytes, dict[str, str]]:
        digest = hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()
        return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}

    def message(
        self,
        sender: str,
        kind: str,
        content: dict[str, Any],
        *,
        name: str = "Иван Петров",
        message_id: str | None = None,
        context: dict[str, Any] | None = None,
        at: int | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "from": sender,
            "id": message_id or f"wamid.IN{next(self._ids):012d}",
            "timestamp": str(at or int(time.time())),
            "type": kind,
            kind: content,
        }
        if kind == "contacts":
            message["contacts"] = message.pop("contacts")
        if context:
            message["context"] = context
        return {"message": message, "contact": {"profile": {"name": name}, "wa_id": sender}}

    def text(self, sender: str, body: str, **kwargs: Any) -> dict[str, Any]:
        return self.message(sender, "text", {"body": body}, **kwargs)

    def media_message(
        self,
        sender: str,
        kind: str,
        media_id: str,
        *,
        mime: str = "image/jpeg",
        caption: str | None = None,
        filename: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"id": media_id, "mime_type": mime, "sha256": "x" * 44}
        if caption:
            content["caption"] = caption
        if filename:
            content["filename"] = filename
        return self.message(sender, kind, content, **kwargs)

    def status(
        self, wamid: str, status: str, *, at: int | None = None, code: int | None = None
    ) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(at or int(time.time())),
            "recipient_id": "79120001122",
        }
        if code is not None:
            found["errors"] = [
                {
                    "code": code,
                    "title": ERRORS.get(code, "Error"),
                    "message": ERRORS.get(code, "Error"),
                    "error_data": {"details": ERRORS.get(code, "Error")},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ]
        return found
