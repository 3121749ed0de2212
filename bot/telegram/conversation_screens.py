"""Client conversations as employees see them: a client's message relayed (headed with who
and on which channel), a delivery failure with what to do, the status mark on a reply."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import tzinfo

from bot.telegram.screens import Button, button
from config.i18n import Translator
from handlers.callbacks import (
    ChatAction,
    ChatCallback,
    ChatHandoverCallback,
    ChatTemplateCallback,
    ClientAction,
    ClientCallback,
)
from models import MessageStatus
from services.conversations import About, Failure, Kind, MessageView, Said

# The reaction a reply of the employee's gets as its status moves (Telegram allows only its
# own list of reaction emoji: no ticks).
STATUS_MARKS = {
    MessageStatus.SENT: "🕊",
    MessageStatus.DELIVERED: "👌",
    MessageStatus.READ: "👀",
    MessageStatus.FAILED: "👎",  # shown in a team inbox's topic (the author is told why)
}
QUOTE_CHARS = 80
TEXT_LIMIT = 4096


def channel_name(channel: str, t: Translator) -> str:
    key = f"conversation.channel.{channel}"
    name = t(key)
    return channel.capitalize() if name == key else name


def who(view: MessageView, t: Translator) -> str:
    return view.client_name or t("conversation.unknown_client")


def relayed(
    view: MessageView,
    t: Translator,
    *,
    quoted: MessageView | None = None,
    manager: bool = False,
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
    return "\n".join(lines), keyboard(view, t, manager=manager)


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


def keyboard(view: MessageView, t: Translator, *, manager: bool = False) -> list[list[Button]]:
    return buttons(view.conversation_id, view.client_id, view.id, t, manager=manager)


def buttons(
    conversation_id: int, client_id: int, message_id: int, t: Translator, *, manager: bool = False
) -> list[list[Button]]:
    """Reply (quoting `message_id`, if any), Note, Client; and Hand over for managers."""

    def data(action: ChatAction, message: int = 0) -> ChatCallback:
        return ChatCallback(action=action, conversation_id=conversation_id, message_id=message)

    return [
        [
            button(t("conversation.button.reply"), data(ChatAction.REPLY, message_id)),
            button(t("conversation.button.note"), data(ChatAction.NOTE)),
            button(
                t("conversation.button.client"),
                ClientCallback(action=ClientAction.OPEN, client_id=client_id),
            ),
        ],
        *(
            [[button(t("conversation.button.handover"), data(ChatAction.HANDOVER))]]
            if manager
            else []
        ),
    ]


def template_buttons(conversation_id: int, templates: Sequence[str]) -> list[list[Button]]:
    """A button per approved template (WhatsApp's only way past the 24-hour window)."""
    return [
        [
            button(
                f"📄 {name.partition(':')[0][:50]}",
                ChatTemplateCallback(conversation_id=conversation_id, index=i),
            )
        ]
        for i, name in enumerate(templates[:20])
    ]


def handover_choices(
    about: About,
    people: Sequence[tuple[int, str]],
    t: Translator,
    *,
    page: int,
    has_more: bool,
) -> tuple[str, list[list[Button]]]:
    rows: list[list[Button]] = [
        [button(name[:60], ChatHandoverCallback(conversation_id=about.id, employee_id=i))]
        for i, name in people
    ]
    pager: list[Button] = []
    if page > 0:
        pager.append(button("‹", ChatHandoverCallback(conversation_id=about.id, page=page - 1)))
    if has_more:
        pager.append(button("›", ChatHandoverCallback(conversation_id=about.id, page=page + 1)))
    if pager:
        rows.append(pager)
    name = about.name or t("conversation.unknown_client")
    return html.escape(t("conversation.handover_title", name=name)), rows


def history(
    about: About,
    lines: Sequence[Said],
    t: Translator,
    tz: tzinfo,
    *,
    manager: bool = False,
) -> tuple[str, list[list[Button]]]:
    """The conversation so far for its new answerer: newest last, as much as fits."""
    name = about.name or t("conversation.unknown_client")
    head = (
        "<b>"
        + html.escape(
            t(
                "conversation.history_head",
                name=name,
                channel=channel_name(about.channel, t),
                count=len(lines),
            )
        )
        + "</b>"
    )
    shown: list[str] = []
    room = TEXT_LIMIT - len(head) - 10
    for line in reversed(lines):
        when = line.at.astimezone(tz).strftime("%d.%m %H:%M")
        arrow = {"in": "←", "out": "→"}.get(line.direction, "📝")
        who = line.who or (name if line.direction == "in" else "")
        said = line.text or ""
        if line.kind != Kind.TEXT:
            label = t(f"conversation.kind.{line.kind}", name=line.filename or "", text="", emoji="")
            said = f"{label} {said}".strip()
        text = html.escape(f"{arrow} {when} {who}: {said}")
        if len(text) + 1 > room:
            break
        shown.append(text)
        room -= len(text) + 1
    keys = buttons(about.id, about.client_id, 0, t, manager=manager)
    return "\n".join([head, *reversed(shown)]), keys


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
    if failure.templates:
        rows += template_buttons(view.conversation_id, templates)
    if failure.retry:
        data = ChatCallback(
            action=ChatAction.RETRY, conversation_id=view.conversation_id, message_id=view.id
        )
        rows.append([button(t("conversation.button.retry"), data)])
    return f"<b>{html.escape(head)}</b>\n{html.escape(text)}", rows
