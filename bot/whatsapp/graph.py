"""A small client of the WhatsApp Cloud API (Meta Graph API): send, upload, download.

Only what the product uses (../shared/PROTOCOLS.md §2.5-2.8). Every failure is a
`GraphError` with the Graph error code when the API gave one (the sender decides what it
means) or `code=None` for the network, a timeout or a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.media import MAX_BYTES, Fetched

TIMEOUT = 15.0


class GraphError(Exception):
    def __init__(
        self, message: str, *, code: int | None = None, status: int = 0, download: bool = False
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status
        self.download = download  # fetching a file's bytes (its link expired, or it is gone)


@dataclass
class Graph:
    base: str  # e.g. https://graph.facebook.com/v23.0
    token: str
    phone_number_id: str
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, body: dict[str, Any]) -> str:
        """POST /{phone-number-id}/messages; the new message's id (wamid)."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **body}
        answer = await self._json("POST", f"{self.phone_number_id}/messages", json=payload)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise GraphError(f"no message id in the answer: {str(answer)[:200]}") from exc

    async def upload(self, file: Fetched) -> str:
        """POST /{phone-number-id}/media; the media id to send it by."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", file.mime or "application/octet-stream")
        form.add_field(
            "file",
            file.data,
            filename=file.filename or "file",
            content_type=file.mime or "application/octet-stream",
        )
        answer = await self._json("POST", f"{self.phone_number_id}/media", data=form)
        return str(answer.get("id") or "")

    async def download(self, media_id: str) -> Fetched:
        """A client's file: its URL (valid for minutes) and then its bytes; an expired or
        refused URL is asked for again once."""
        for attempt in (1, 2):
            info = await self._json("GET", media_id)
            url, mime = info.get("url"), info.get("mime_type")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise GraphError(f"no download URL for media {media_id[:40]}", code=131052)
            try:
                return Fetched(await self._bytes(url), mime if isinstance(mime, str) else None)
            except GraphError as exc:
                if attempt == 2 or exc.status not in (401, 403, 404, 410):
                    raise
        raise AssertionError("unreachable")

    async def _bytes(self, url: str) -> bytes:
        try:
            async with self.session.get(url) as response:
                if response.status != 200:
                    raise GraphError(
                        f"download: HTTP {response.status}", status=response.status, download=True
                    )
                if (response.content_length or 0) > MAX_BYTES:
                    raise GraphError("the file is too big to pass on", code=131053, status=413)
                data = await response.content.read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    raise GraphError("the file is too big to pass on", code=131053, status=413)
                return data
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise GraphError(f"download: {type(exc).__name__}: {exc}", download=True) from exc

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.base.rstrip('/')}/{path}"
        try:
            async with self.session.request(method, url, **kwargs) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise GraphError(f"{type(exc).__name__}: {exc}") from exc
        if status == 200 and isinstance(answer, dict):
            return answer
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            raise GraphError(
                str(error.get("message") or "Graph API error")[:300],
                code=code if isinstance(code, int) else None,
                status=status,
            )
        raise GraphError(f"HTTP {status}", status=status)


class WhatsAppMedia:
    """Clients' WhatsApp files, for senders of other channels (bot.media)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def fetch(self, ref: str) -> Fetched:
        from bot.whatsapp.sender import classified

        with classified(attempts=1):
            return await self.graph.download(ref)
