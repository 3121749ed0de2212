"""The merge screens: finding the duplicate, both clients side by side, the Undo button."""

from __future__ import annotations

from aiogram.utils.formatting import Bold, Text, as_line, as_list

from bot.telegram.limits import clip
from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import MergeAction, MergeCallback, MergeUndoCallback
from services.clients.duplicates import Candidates, Preview, Side
from services.clients.identities import format_phone
from services.clients.search import Found


def ask(candidates: Candidates, t: Translator) -> Screen:
    """Send the duplicate's phone, name or e-mail; likely duplicates as buttons."""
    client = candidates.client
    lines: list[Text | str] = [t("merge.ask", name=_name(client, t))]
    if candidates.found:
        lines.append(t("merge.likely"))
    return Screen.of(as_list(*lines), _picks(candidates, t))


def found(candidates: Candidates, text: str, t: Translator) -> Screen:
    """The clients matching what was typed, or a hint to try again."""
    name = _name(candidates.client, t)
    if not candidates.found:
        return Screen.of(Text(t("merge.nothing_found", text=clip(text))), _picks(candidates, t))
    return Screen.of(Text(t("merge.found", name=name)), _picks(candidates, t))


def confirm(preview: Preview, t: Translator) -> Screen:
    """Both clients side by side: which stays, which moves into it, and what moves."""
    keep, away = preview.survivor, preview.merged
    text = as_list(
        Bold(t("merge.title")),
        "",
        _side(t("merge.keep"), keep, t("merge.has", what=_counts(keep, t)), t),
        "",
        _side(t("merge.away"), away, t("merge.will_move", what=_counts(away, t)), t),
        "",
        t("merge.fill"),
    )
    ids = {"client_id": keep.client_id, "other_id": away.client_id}
    swapped = {"client_id": away.client_id, "other_id": keep.client_id}
    keyboard = [
        [button(t("merge.button.confirm"), MergeCallback(action=MergeAction.CONFIRM, **ids))],
        [button(t("merge.button.swap"), MergeCallback(action=MergeAction.PICK, **swapped))],
        [button(t("merge.button.cancel"), MergeCallback(action=MergeAction.CANCEL, **ids))],
    ]
    return Screen.of(text, keyboard)


def with_undo(card: Screen, merge_id: int, t: Translator) -> Screen:
    """The survivor's card with an Undo button (valid for 24 hours; the service checks)."""
    undo = [button(t("merge.button.undo"), MergeUndoCallback(merge_id=merge_id))]
    return Screen(card.text, [*card.keyboard, undo])


def _picks(candidates: Candidates, t: Translator) -> list[list[Button]]:
    client_id = candidates.client.client_id
    rows = [
        [
            button(
                _label(other, t),
                MergeCallback(
                    action=MergeAction.PICK, client_id=client_id, other_id=other.client_id
                ),
            )
        ]
        for other in candidates.found
    ]
    cancel = MergeCallback(action=MergeAction.CANCEL, client_id=client_id)
    return [*rows, [button(t("merge.button.cancel"), cancel)]]


def _side(title: str, side: Side, what: str, t: Translator) -> Text:
    details = [clip(v) for v in (side.company, side.phone and format_phone(side.phone)) if v]
    return as_list(
        Bold(title, ": ", _name(side, t), f" #{side.client_id}"),
        *([as_line(", ".join(details), end="")] if details else []),
        what,
    )


def _counts(side: Side, t: Translator) -> str:
    parts = [t.plural(f"merge.count.{name}", n) for name, n in side.counts.items()]
    return ", ".join(parts) if parts else t("merge.empty")


def _name(client: Found | Side, t: Translator) -> str:
    return clip(client.name) if client.name else t("merge.unnamed")


def _label(found: Found, t: Translator) -> str:
    details = [v for v in (found.company, found.phone and format_phone(found.phone)) if v]
    label = " · ".join([_name(found, t), *details, f"#{found.client_id}"])
    return clip(label, 60)
