"""Driving the bot as a person does: type, tap a button by its label, read what is shown.

Everything goes through the real dispatcher and the outbox pump to the fake Bot API, so a test
sees exactly what the person would see (a pressed button's message edited in place, an alert).

    anna = Chat(container, fake_tg, employee)
    await anna.say("/find Иван")
    await anna.press("Иван Петров")          # a button on the last message with buttons
    assert "Иван Петров" in anna.text
    assert await anna.press("Взять") == "..."  # the callback's alert text
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import TelegramMethod

from tests.fakes.telegram_api import FakeTelegram


async def deliver(container: Any, update: dict[str, Any]) -> Any:
    """One update as Telegram delivers it: fed to the dispatcher, and the answer a handler
    returns (a button's popup, an inline query's results: the product answers them in the
    webhook reply, after its unit of work committed) performed at the Bot API, as Telegram
    does with a webhook reply and aiogram's polling does with a returned method."""
    result = await container.dispatcher.feed_raw_update(container.bot, update)
    if isinstance(result, TelegramMethod):
        await container.bot(result)
    return result


class Chat:
    def __init__(self, container: Any, fake_tg: FakeTelegram, who: Any) -> None:
        """`who`: an Employee (or anything with `telegram_id`), or a bare Telegram user id."""
        self.container, self.fake = container, fake_tg
        self.user_id = who if isinstance(who, int) else int(who.telegram_id)

    # --- acting

    async def say(self, text: str, **extra: Any) -> dict[str, Any]:
        """Send a message (a command or any text; `extra` adds fields such as `contact`);
        returns the newest message of this chat afterwards."""
        update = self.fake.message_update(from_id=self.user_id, text=text, extra=extra or None)
        await self.feed(update)
        return self.last

    async def share_contact(
        self, phone: str, *, first_name: str = "Иван", user_id: int | None = None
    ) -> dict[str, Any]:
        contact = {"phone_number": phone, "first_name": first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return await self.say("", contact=contact)

    async def press(self, label: str, message: dict[str, Any] | None = None) -> str | None:
        """Tap the button whose text contains `label` on `message` (default: the newest
        message with buttons); returns the alert or toast text Telegram would show."""
        message = message or self.last_with_buttons
        data = find_button(message, label)["callback_data"]
        return await self.press_data(data, message)

    async def press_data(self, data: str, message: dict[str, Any] | None = None) -> str | None:
        """Send a callback with raw `data` (a tampered or stale button) from `message`."""
        message = message or self.last
        update = self.fake.callback_update(from_id=self.user_id, data=data, message=message)
        await self.feed(update)
        query_id = update["callback_query"]["id"]
        answers = [
            c.params
            for c in self.fake.calls("answerCallbackQuery")
            if c.params["callback_query_id"] == query_id
        ]
        assert answers, f"the bot never answered the press of {data!r}"
        return answers[-1].get("text")

    async def inline(self, query: str) -> dict[str, Any]:
        """Type `@bot query` anywhere; returns the answerInlineQuery parameters."""
        update = self.fake.inline_update(from_id=self.user_id, query=query)
        await self.feed(update)
        query_id = update["inline_query"]["id"]
        [answer] = [
            c.params
            for c in self.fake.calls("answerInlineQuery")
            if c.params["inline_query_id"] == query_id
        ]
        return answer

    async def feed(self, update: dict[str, Any]) -> None:
        await deliver(self.container, update)
        await drain(self.container)

    # --- reading

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message the bot has in this chat, oldest first, as it looks now."""
        return self.fake.sent_messages(self.user_id)

    def message(self, message_id: int) -> dict[str, Any]:
        """One message of this chat as it looks now (after edits)."""
        [found] = [m for m in self.messages if m["message_id"] == message_id]
        return found

    @property
    def last(self) -> dict[str, Any]:
        found = self.messages
        assert found, "the bot has sent nothing to this chat"
        return found[-1]

    @property
    def last_with_buttons(self) -> dict[str, Any]:
        found = [m for m in self.messages if buttons(m)]
        assert found, "no message in this chat has buttons"
        return found[-1]

    @property
    def text(self) -> str:
        """The newest message's text (HTML as sent)."""
        return str(self.last["text"])


async def drain(container: Any) -> None:
    while await container.pump.run_once():
        pass


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard") or [] for b in row]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for b in buttons(message)]


def find_button(message: dict[str, Any], label: str) -> dict[str, Any]:
    found = [b for b in buttons(message) if label in b["text"]]
    assert found, f"no button {label!r} on the message; it has {labels(message)}"
    assert len(found) == 1, f"several buttons match {label!r}: {[b['text'] for b in found]}"
    return found[0]
