"""`POST /webhooks/telegram`: Telegram updates in webhook mode, checked by the secret header.

After the secret matched: a body that is not JSON → 400; JSON that is not a Telegram Update
(wrong types, numbers beyond 64 bits) → logged and 200 `{"status": "ignored"}`, because
Telegram would otherwise redeliver it for hours; an update whose handling fails → logged and
200 `{"status": "failed"}` for the same reason (the bot's error router has already told the
user when it could). An update whose handler returned its answer (a button's popup, an inline
query's results) → 200 with that Bot API method in the body, which Telegram performs (the Bot
API's "answer to the webhook": no request of ours, and only after the unit of work committed).
Everything else → 200 `{}`.
"""

from __future__ import annotations

import logging
import secrets

from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import InputFile, Update
from aiohttp import MultipartWriter, web
from pydantic import ValidationError

from metrics import TELEGRAM_UPDATES
from web_app import container_of
from webhooks.common import OutOfRange, json_error, parse_json, secret_matches

log = logging.getLogger(__name__)


async def receive(request: web.Request) -> web.Response:
    container = container_of(request)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    if not secret_matches(given, container.settings.telegram_webhook_secret):
        return json_error(401, "unauthorized", "missing or wrong secret token")
    bot, dispatcher = container.bot, container.dispatcher
    if bot is None or dispatcher is None:
        return json_error(503, "bot_off", "the Telegram bot is off: set TELEGRAM_BOT_TOKEN")
    try:
        data = parse_json(await request.read())  # BadBody (not JSON) → 400 by the middleware
        update = Update.model_validate(data, context={"bot": bot})
    except (OutOfRange, ValidationError) as exc:
        log.warning("ignored a webhook body that is not a Telegram update: %s", str(exc)[:300])
        TELEGRAM_UPDATES.labels("ignored").inc()
        return web.json_response({"status": "ignored"})
    try:
        result = await dispatcher.feed_update(bot, update)
    except Exception:
        log.exception("update %s failed; answered 200 so it is not redelivered", update.update_id)
        TELEGRAM_UPDATES.labels("failed").inc()
        return web.json_response({"status": "failed"})
    if isinstance(result, TelegramMethod):
        return web.Response(body=_method_reply(bot, result))
    return web.json_response({})


def _method_reply(bot: Bot, method: TelegramMethod[object]) -> MultipartWriter:
    """A Bot API method as a webhook reply: `method` and its parameters as form fields,
    encoded the way aiogram encodes a request (its own webhook handler does the same)."""
    writer = MultipartWriter("form-data", boundary=f"webhook{secrets.token_urlsafe(16)}")
    writer.append(method.__api_method__).set_content_disposition("form-data", name="method")
    files: dict[str, InputFile] = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = bot.session.prepare_value(value, bot=bot, files=files)
        if prepared:
            writer.append(prepared).set_content_disposition("form-data", name=key)
    return writer
