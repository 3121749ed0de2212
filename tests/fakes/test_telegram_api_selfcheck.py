"""Self-check: a real aiogram Bot talks to FakeTelegram over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from tests.fakes.telegram_api import ApiError, Call, FakeTelegram

pytestmark = pytest.mark.asyncio

CHAT = 555001


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    api = TelegramAPIServer.from_base(tg.base_url)
    instance = Bot(tg.token, session=AiohttpSession(api=api))
    yield instance
    await instance.session.close()


def keyboard(label: str, data: str) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text=label, callback_data=data)
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def test_get_me(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "chatcrm_test_bot" and me.id == tg.bot_id
    assert tg.calls("getme")[0].status == 200
    assert tg.call_counts["getMe"] == 1


async def test_send_and_edit(tg: FakeTelegram, bot: Bot) -> None:
    markup = keyboard("Взять в работу", "take:1")
    sent = await bot.send_message(CHAT, "Новый лид: Иван", reply_markup=markup)
    assert isinstance(sent, Message) and sent.message_id == 1 and sent.chat.id == CHAT
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].text == "Взять в работу"
    call = tg.calls("sendMessage")[0]
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Взять в работу"

    edited = await bot.edit_message_text(
        "Лид взят: Иван",
        chat_id=CHAT,
        message_id=sent.message_id,
        reply_markup=keyboard("Закрыть", "close:1"),
    )
    assert isinstance(edited, Message) and edited.text == "Лид взят: Иван"
    [state] = tg.sent_messages(CHAT)
    assert state["text"] == "Лид взят: Иван"
    assert state["reply_markup"]["inline_keyboard"][0][0]["text"] == "Закрыть"

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Лид взят: Иван",
            chat_id=CHAT,
            message_id=sent.message_id,
            reply_markup=keyboard("Закрыть", "close:1"),
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)
    assert [c.status for c in tg.calls("editMessageText")] == [200, 400, 400]

    markup_only = await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(markup_only, Message) and markup_only.reply_markup is None
    assert tg.sent_messages(CHAT)[0]["reply_markup"] is None


async def test_retry_after_injection(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    with pytest.raises(TelegramRetryAfter) as exc_info:
        await bot.send_message(CHAT, "hello")
    assert exc_info.value.retry_after == 3
    assert (await bot.send_message(CHAT, "hello")).message_id == 1  # next call goes through
    assert [c.status for c in tg.calls("sendMessage")] == [429, 200]
    assert len(tg.sent_messages()) == 1


async def test_polling_round_trip(tg: FakeTelegram, bot: Bot) -> None:
    first = tg.push_update(tg.message_update(from_id=CHAT, text="/start lead42", username="ivan"))
    assert first == 100
    [raw] = await bot.get_updates(offset=0, timeout=1)
    update = Update.model_validate(raw.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert update.update_id == first and update.message is not None
    assert update.message.text == "/start lead42" and update.message.from_user is not None
    assert update.message.entities and update.message.entities[0].length == len("/start")

    sent = await bot.send_message(CHAT, "Карточка", reply_markup=keyboard("Да", "yes"))
    second = tg.push_update(
        tg.callback_update(from_id=CHAT, data="yes", message=tg.sent_messages(CHAT)[0])
    )
    updates = await bot.get_updates(offset=first + 1, timeout=1)
    assert [u.update_id for u in updates] == [second]
    query = updates[0].callback_query
    assert query is not None and query.data == "yes"
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id

    assert await bot.get_updates(offset=second + 1, timeout=0) == []


async def test_wait_for_times_out(tg: FakeTelegram, bot: Bot) -> None:
    await bot.get_me()
    with pytest.raises(AssertionError, match=r"(?s)sendMessage.*\[200\] getMe"):
        await tg.wait_for("sendMessage", timeout=0.2)
    assert len(await tg.wait_for("getme")) == 1


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "http:// spaced.example", "https://exa mple.org", "ftp://x.org", ""],
)
async def test_a_button_with_a_url_telegram_refuses_kills_the_message(
    tg: FakeTelegram, bot: Bot, url: str
) -> None:
    button = InlineKeyboardButton(text="🎧", url=url)
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(
            CHAT, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )
    ok = InlineKeyboardButton(text="🎧", url="https://pbx.example.ru/rec/1.mp3?a=b")
    await bot.send_message(CHAT, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[ok]]))
    assert [c.status for c in tg.calls("sendMessage")] == [400, 200]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>unclosed", "can't parse entities"),
        ("a < b", "can't parse entities"),
        ("fish &chips", "can't parse entities"),
        ("<script>x</script>", "can't parse entities"),
        ("<b>" + "x" * 4094 + "</b>", "message is too long"),
        ("😀" * 2049, "message is too long"),  # Telegram counts UTF-16 units
    ],
)
async def test_html_messages_telegram_cannot_parse_or_fit_are_refused(
    tg: FakeTelegram, bot: Bot, text: str, error: str
) -> None:
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.send_message(CHAT, text, parse_mode="HTML")
    await bot.send_message(CHAT, "<b>ok</b> &amp; &lt;fine&gt; &#x27;", parse_mode="HTML")


async def test_a_caption_over_1024_characters_is_refused(tg: FakeTelegram, bot: Bot) -> None:
    photo = "AgACAgIAAxkBAAIBQ2"  # a file_id: the fake keeps no files
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(CHAT, photo, caption="x" * 1025)
    sent = await bot.send_photo(CHAT, photo, caption="x" * 1024)
    assert sent.message_id


async def test_an_alert_over_200_characters_is_refused(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("1", text="x" * 201, show_alert=True)
    assert await bot.answer_callback_query("1", text="x" * 200, show_alert=True)


async def test_with_limits_a_send_over_telegrams_limits_is_a_429() -> None:
    """What bench/reminders.py relies on: a 31st send within a second, or a second send to
    one chat within a second, is refused as Telegram refuses it (arrival times given here)."""
    limited = FakeTelegram(limits=True)

    def send(chat_id: int, at: float) -> int:
        try:
            limited._within_limits(Call("sendMessage", {"chat_id": chat_id}, at, 0))
        except ApiError as exc:
            return exc.status
        return 200

    assert send(1, 100.0) == 200
    assert send(1, 100.5) == 429  # too soon for this chat
    assert [send(chat, 100.5 + chat / 100) for chat in range(2, 31)] == [200] * 29
    assert send(99, 100.95) == 429  # the 31st within the second
    assert send(99, 101.01) == 200  # the first one has left the window
    assert send(1, 101.6) == 200
