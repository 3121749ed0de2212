"""Client conversations as employees see them: a client's message relayed (headed with who
and on which channel), a delivery failure with what to do, the status mark on a reply."""

from __future__ import annotations

import html

from bot.telegram.screens import Button, button
from config.i18n import Translator
from handlers.callbacks import ChatAction, ChatCallback, ClientAction, ClientCallback
from models import MessageStatus
from services.conversations import Failure, Kind, MessageView

# The reaction a reply of the employee's gets as its status moves (Telegram allows only its
# own list of reaction emoji: no ticks).
STATUS_MARKS = {
    MessageStatus.SENT: "🕊",
    MessageStatus.DELIVERED: "👌",
    MessageStatus.READ: "👀",
}
QUOTE_CHARS = 80


def channel_name(channel: str, t: Translator) -> str:
    key = f"conversation.channel.{channel}"
    name = t(key)
    return channel.capitalize() if name == key else name


def who(view: MessageView, t: Translator) -> str:
    return view.client_name or t("conversation.unknown_client")


def relayed(
    view: MessageView, t: Translator, *, quoted: MessageView | None = None
) -> tuple[str, list[list[Button]]]:
    """A client's message in staff Telegram: head, what it is, its text; Reply/Note/Client."""
    lines = [
        "<b>"
        + html.escape(
            t("conversation.head", name=who(view, t), channel=channel_name(view.channel, t))
        )
        + "</b>"
    ]
    if quoted is not None:
        lines.append("<i>" + html.escape(_quote(quoted, t)) + "</i>")
    lines += [html.escape(line) for line in body(view, t)]
    if view.kind == Kind.LOCATION and "latitude" in view.details:
        lat, lon = view.details["latitude"], view.details.get("longitude", 0)
        lines.append(f"https://maps.google.com/?q={lat},{lon}")
    return "\n".join(lines), keyboard(view, t)


def body(view: MessageView, t: Translator) -> list[str]:
    """What the message says, in words: its text, or what kind of message it is."""
    kind, text = view.kind, view.text
    if kind == Kind.TEXT:
        return [text or ""]
    if kind == Kind.REACTION:
        removed = view.details.get("removed")
        return [
            t("conversation.kind.reaction_removed")
            if removed
            else t("conversation.kind.reaction", emoji=text or "")
        ]
    if kind == Kind.BUTTON:
        return [t("conversation.kind.button", text=text or "")]
    name = (view.media.filename if view.media else None) or ""
    label = t(f"conversation.kind.{kind}", name=name)
    if label == f"conversation.kind.{kind}":
        label = t("conversation.kind.unsupported")
    return [label] + ([text] if text else [])


def _quote(quoted: MessageView, t: Translator) -> str:
    if quoted.text:
        text = (
            quoted.text if len(quoted.text) <= QUOTE_CHARS else quoted.text[: QUOTE_CHARS - 1] + "…"
        )
        return t("conversation.quote", text=text)
    return t("conversation.quote_media")


def keyboard(view: MessageView, t: Translator) -> list[list[Button]]:
    def data(action: ChatAction, message_id: int = 0) -> ChatCallback:
        return ChatCallback(
            action=action, conversation_id=view.conversation_id, message_id=message_id
        )

    return [
        [
            button(t("conversation.button.reply"), data(ChatAction.REPLY, view.id)),
            button(t("conversation.button.note"), data(ChatAction.NOTE)),
            button(
                t("conversation.button.client"),
                ClientCallback(action=ClientAction.OPEN, client_id=view.client_id),
            ),
        ]
    ]


def failed(
    view: MessageView, failure: Failure, t: Translator, templates: tuple[str, ...]
) -> tuple[str, list[list[Button]]]:
    """A reply that did not reach the client: why, and what to do; Retry where it can help."""
    head = t("conversation.failed.head", name=who(view, t), channel=channel_name(view.channel, t))
    reason = failure.reason
    if reason == "window" and templates:
        reason = "window_templates"
    text = t(
        f"conversation.failed.{reason}",
        error=(view.error or "")[:200],
        templates=", ".join(templates),
    )
    rows: list[list[Button]] = []
    if failure.retry:
        data = ChatCallback(
            action=ChatAction.RETRY, conversation_id=view.conversation_id, message_id=view.id
        )
        rows.append([button(t("conversation.button.retry"), data)])
    return f"<b>{html.escape(head)}</b>\n{html.escape(text)}", rows
