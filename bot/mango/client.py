"""Commands to Mango Office (PROTOCOLS §3.4): signed form posts to `<base>/<command>`."""

from __future__ import annotations

import hashlib
import json

import aiohttp


class MangoError(Exception):
    """Mango did not give what was asked (not ready yet, unknown id, off-line)."""


TIMEOUT = aiohttp.ClientTimeout(total=10)


async def recording_link(*, base: str, key: str, salt: str, recording_id: str) -> str:
    """A temporary URL of the recording's file: Mango answers `recording/post` with a 302."""
    body = json.dumps({"recording_id": recording_id, "action": "download"}, separators=(",", ":"))
    form = {
        "vpbx_api_key": key,
        "json": body,
        "sign": hashlib.sha256((key + body + salt).encode()).hexdigest(),
    }
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            async with http.post(
                f"{base}/queries/recording/post", data=form, allow_redirects=False
            ) as response:
                location = response.headers.get("Location")
                if response.status in (301, 302, 303, 307) and location:
                    return location
                raise MangoError(f"Mango answered {response.status} without a file link")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise MangoError(f"Mango is unreachable: {exc}") from exc
