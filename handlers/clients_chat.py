"""Clients who write to the bot: anyone in a private chat who is not (and never was) staff.

Every message (text, photo, file, voice, video, sticker, location, contact) is a client's
message on the Telegram channel, received exactly like a WhatsApp one
(services.conversations.receive). Sharing their own contact (the button the bot offers once)
joins this chat to the client that phone belongs to.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import PrivateChat
from handlers.router import Router
from handlers.telegram_messages import content, provider_id
from models import Channel
from services import conversations
from services.actors import Actor
from services.context import Company


class IsClient(Filter):
    async def __call__(
        self, event: TelegramObject, actor: Actor | None = None, former: bool = False
    ) -> bool:
        return actor is None and not former


class NotCommand(Filter):
    async def __call__(self, message: Message) -> bool:
        return not (message.text or "").startswith("/")


def make_router() -> Router:
    router = Router(name="clients")
    router.message.filter(PrivateChat(), IsClient())
    router.message.register(writes, NotCommand())
    return router


async def writes(message: Message, session: AsyncSession, company: Company) -> None:
    chat = str(message.chat.id)
    shared = message.contact
    own = shared is not None and message.from_user and shared.user_id == message.from_user.id
    if own:
        if await conversations.link_phone(
            session, Channel.TELEGRAM, chat, shared.phone_number, company=company
        ):
            return
    found = content(message)
    quoted = message.reply_to_message
    user = message.from_user
    await conversations.receive(
        session,
        conversations.IncomingMessage(
            channel=Channel.TELEGRAM,
            chat_id=chat,
            message_id=provider_id(message.chat.id, message.message_id),
            kind=found.kind,
            text=found.text,
            media=found.media,
            name=user.full_name if user else None,
            phone=shared.phone_number if own and shared else None,
            quoted_id=provider_id(message.chat.id, quoted.message_id) if quoted else None,
            at=message.date,
            details=dict(found.details or {}),
        ),
        company=company,
    )
    if own and shared is not None:  # their phone came first: it is on record now; thank them
        await conversations.link_phone(
            session, Channel.TELEGRAM, chat, shared.phone_number, company=company
        )
