"""`POST /webhooks/telegram`: Telegram updates in webhook mode, checked by the secret header."""

from __future__ import annotations

from aiohttp import web

from webhooks.common import json_error, secret_matches
from webhooks.context import container_of


async def receive(request: web.Request) -> web.Response:
    container = container_of(request)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    if not secret_matches(given, container.settings.telegram_webhook_secret):
        return json_error(401, "unauthorized", "missing or wrong secret token")
    if container.bot is None or container.dispatcher is None:
        return json_error(503, "bot_off", "the Telegram bot is off: set TELEGRAM_BOT_TOKEN")
    try:
        update = await request.json()
    except ValueError:
        return json_error(400, "bad_body", "body is not valid JSON")
    if not isinstance(update, dict) or "update_id" not in update:
        return json_error(400, "bad_update", "not a Telegram update")
    # Processed before answering: a failure gets a non-2xx and Telegram redelivers it
    # (the update_id dedupe in the unit of work makes the redelivery harmless).
    await container.dispatcher.feed_webhook_update(container.bot, update)
    return web.json_response({})
