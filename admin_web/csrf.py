"""Cross-site request forgery: every state-changing admin request proves it came from our page.

One mechanism for every admin form, present and future:
- A per-session token: HMAC-SHA256 keyed by the session token (the HttpOnly cookie) over a
  fixed purpose string. Only the browser holding the session and the server can compute it; the
  database keeps only a hash of the session token, so not even a reader of the database can
  mint one, and nothing new is stored. Signing out or a new session changes it.
- Before signing in there is no session, so the login form is protected by a double-submit
  cookie: a random pre-session value in `crm_login_csrf` (HttpOnly, SameSite=Strict), and the
  form carries the HMAC of it. This stops a foreign page from signing the admin's browser into
  another account (login CSRF). Its limit: a same-site host that can set cookies for our
  domain could plant a value it knows; the Origin check below is what stops that host.
- Templates render the hidden field with `{{ csrf_field() }}`; scripts may send the token in the
  `X-CSRF-Token` header instead.
- `admin_web.edge` checks every unsafe method (anything but GET, HEAD, OPTIONS) before the
  handler runs. When the browser sends `Origin` it must name this host (or PUBLIC_URL's), a
  second layer that needs no token and also covers same-site sibling hosts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from markupsafe import Markup

from webhooks.common import read_form

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
PRE_SESSION_COOKIE = "crm_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# The secret the request's token is derived from: the session token, or the pre-session value.
SECRET: web.RequestKey[str] = web.RequestKey("csrf_secret")
_PURPOSE = b"chatcrm admin form v1"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def token_for(secret: str) -> str:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).hexdigest()


@jinja2.pass_context
def csrf_field(context: Any) -> Markup:
    """`{{ csrf_field() }}`: the hidden input every admin form that changes something carries."""
    token = token_for(context["request"][SECRET])
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token)


async def is_genuine(request: web.Request, public_url: str | None) -> bool:
    """Whether an unsafe request came from our own page (Origin, then the token)."""
    if not _origin_allowed(request.headers.get("Origin"), request.host, public_url):
        return False
    sent = request.headers.get(HEADER)
    if sent is None and request.content_type in FORM_TYPES:
        value = (await read_form(request)).get(FIELD)  # unreadable: BadBody, a 400
        sent = value if isinstance(value, str) else None
    secret = request.get(SECRET)
    return bool(sent and secret) and hmac.compare_digest(sent, token_for(secret or ""))


def _origin_allowed(origin: str | None, host: str, public_url: str | None) -> bool:
    """No Origin (older browsers, some same-origin requests): the token alone decides.

    The scheme is not compared: behind a TLS-terminating proxy the server sees http while the
    browser says https. The host (with its port) must be ours; "null" never is.
    """
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc.lower()
    ours = {host.lower()}
    if public_url:
        ours.add(urlsplit(public_url).netloc.lower())
    return bool(netloc) and netloc in ours
