"""Deal screens: the card with its buttons, the stage and lost-reason pickers, the stage
history, the prompts of the dialogs, and the /deals lists (by stage, by employee, one stage)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from decimal import Decimal

from aiogram.utils.formatting import Bold, Text, as_key_value, as_line, as_list, as_marked_section

from bot.telegram.limits import clip
from bot.telegram.screens import Button, Screen, button
from config.i18n import Translator
from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    DealAction,
    DealCallback,
    ListCallback,
    ListView,
    NewTaskCallback,
    NewTicketCallback,
    TicketAbout,
)
from models import DealStatus, StageKind
from services import deals
from services.deals import DealCard, DealPage, EmployeeTotal, StageMove, Summary

Rows = list[list[Button]]


def card(deal: DealCard, t: Translator, tz: tzinfo) -> Screen:
    money = _money(t, deal.currency)
    fields = [
        as_key_value(t("deal.client"), clip(deal.client_name or f"#{deal.client_id}")),
        as_key_value(t("deal.stage"), clip(deal.stage.name)),
        as_key_value(t("deal.amount"), money(deal.amount)),
        as_key_value(t("deal.cost"), money(deal.cost)),
        as_key_value(t("deal.profit"), money(deal.gross_profit)),
        as_key_value(t("deal.owner"), clip(deal.owner or t("deal.nobody"))),
        as_key_value(t("deal.created"), t.when(deal.created_at, tz)),
    ]
    if deal.stage_changed_at is not None:
        fields.append(as_key_value(t("deal.stage_changed"), t.when(deal.stage_changed_at, tz)))
    if deal.closed_at is not None:
        fields.append(as_key_value(t("deal.closed"), t.when(deal.closed_at, tz)))
    if deal.lost_reason:
        fields.append(as_key_value(t("deal.lost_reason"), clip(reason_text(deal.lost_reason, t))))
    parts: list[Text] = [_heading(deal, t), as_list(*fields)]
    if deal.recent:
        parts.append(as_marked_section(t("deal.recent"), *_moves(deal.recent, t, tz), marker=""))
    return Screen.of(as_list(*parts, sep="\n\n"), _card_buttons(deal, t))


def stage_picker(deal: DealCard, t: Translator) -> Screen:
    """The pipeline's open stages as buttons, the current one marked."""
    rows: Rows = []
    for stage in deal.stages:
        if stage.kind is not StageKind.OPEN:
            continue
        label = t("deal.current", name=stage.name) if stage.id == deal.stage.id else stage.name
        rows.append([button(clip(label, 60), _deal(DealAction.STAGE, deal.id, stage.id))])
    rows.append([button(t("deal.button.back"), _deal(DealAction.OPEN, deal.id))])
    return Screen.of(Text(t("deal.stage_title", title=clip(deal.title))), rows)


def lost_reasons(deal: DealCard, t: Translator) -> Screen:
    """One button per reason (its number in `deals.LOST_REASONS`, from 1)."""
    rows: Rows = [
        [button(_reason_label(code, t), _deal(DealAction.LOST, deal.id, number))]
        for number, code in enumerate(deals.LOST_REASONS, start=1)
    ]
    rows.append([button(t("deal.button.back"), _deal(DealAction.OPEN, deal.id))])
    return Screen.of(Text(t("deal.lost_title", title=clip(deal.title))), rows)


def history(deal: DealCard, moves: Sequence[StageMove], t: Translator, tz: tzinfo) -> Screen:
    title = Bold(t("deal.history_title", title=clip(deal.title)))
    body = as_list(*_moves(moves, t, tz)) if moves else Text(t("deal.history_empty"))
    back = [[button(t("deal.button.back"), _deal(DealAction.OPEN, deal.id))]]
    return Screen.of(as_list(title, body, sep="\n\n"), back)


def prompt(key: str, deal: DealCard, t: Translator) -> Screen:
    """What to type in a dialog; the button leaves it."""
    back = [[button(t("deal.button.back"), _deal(DealAction.OPEN, deal.id))]]
    return Screen.of(Text(t(key, title=clip(deal.title))), back)


def by_stage(
    summary: Summary,
    t: Translator,
    *,
    title: str,
    employee_id: int,
    manager: bool,
    currency: str,
) -> Screen:
    """Counts and sums per stage; a button per stage with deals lists them (`employee_id` 0:
    the office)."""
    money = _money(t, currency)
    totals = summary.stages
    open_ = [s for s in totals if s.stage.kind is StageKind.OPEN]
    lines = [
        Text(
            t(
                "deal.list.stage_line",
                stage=clip(s.stage.name),
                count=t.plural("deal.count", s.count),
                sum=money(s.amount),
            )
        )
        for s in totals
    ]
    total = t(
        "deal.list.open_total",
        count=t.plural("deal.count", sum(s.count for s in open_)),
        sum=money(sum((s.amount for s in open_), Decimal(0))),
    )
    rows: Rows = [
        [
            button(
                clip(f"{s.stage.name} ({s.count})", 60),
                ListCallback(
                    view=ListView.STAGE_DEALS, stage_id=s.stage.id, employee_id=employee_id
                ),
            )
        ]
        for s in totals
        if s.count
    ]
    if manager:
        rows.append(_manager_row(t))
    return Screen.of(as_list(Bold(title), as_list(*lines), Bold(total), sep="\n\n"), rows)


def by_employee(totals: Sequence[EmployeeTotal], t: Translator, *, currency: str) -> Screen:
    money = _money(t, currency)
    lines = [
        Text(
            t(
                "deal.list.employee_line",
                name=clip(e.name),
                count=t.plural("deal.count", e.count),
                sum=money(e.amount),
            )
        )
        for e in totals
    ]
    body = as_list(*lines) if lines else Text(t("deal.list.no_employees"))
    rows: Rows = [
        [
            button(
                clip(f"{e.name} ({e.count})", 60),
                ListCallback(view=ListView.MY_DEALS, employee_id=e.employee_id),
            )
        ]
        for e in totals
    ]
    rows.append(_manager_row(t))
    return Screen.of(as_list(Bold(t("deal.list.by_employee")), body, sep="\n\n"), rows)


def stage_deals(page: DealPage, t: Translator, *, employee_id: int, currency: str) -> Screen:
    money = _money(t, currency)
    title = t("deal.list.stage_title", stage=clip(page.stage.name))
    rows: Rows = [
        [
            button(
                clip(t("deal.list.deal_line", title=d.title, amount=money(d.amount)), 60),
                _deal(DealAction.OPEN, d.id),
            )
        ]
        for d in page.deals
    ]
    pager: list[Button] = []
    if page.page > 0:
        pager.append(button(t("deal.list.prev"), _stage_page(page, employee_id, page.page - 1)))
    if page.has_more:
        pager.append(button(t("deal.list.next"), _stage_page(page, employee_id, page.page + 1)))
    if pager:
        rows.append(pager)
    view = ListView.MY_DEALS if employee_id else ListView.OFFICE_DEALS
    rows.append([button(t("deal.list.back"), ListCallback(view=view, employee_id=employee_id))])
    if not page.deals:
        return Screen.of(as_list(Bold(title), Text(t("deal.list.empty")), sep="\n\n"), rows)
    return Screen.of(Text(Bold(title)), rows)


def reason_text(stored: str, t: Translator) -> str:
    """A stored lost reason as people read it: a code's text, or what was typed for "other"."""
    prefix = f"{deals.OTHER}: "
    if stored.startswith(prefix):
        return stored[len(prefix) :]
    return t(f"deal.reason.{stored}", default=stored)


# --- inside


def _reason_label(code: str, t: Translator) -> str:
    return t("deal.button.other") if code == deals.OTHER else t(f"deal.reason.{code}")


def _heading(deal: DealCard, t: Translator) -> Text:
    title = Bold(t("deal.title", title=clip(deal.title)))
    if deal.status is DealStatus.WON:
        return as_line(title, " · ", t("deal.won_mark"), end="")
    if deal.status is DealStatus.LOST:
        return as_line(title, " · ", t("deal.lost_mark"), end="")
    return Text(title)


def _card_buttons(deal: DealCard, t: Translator) -> Rows:
    client = button(
        t("deal.button.client"), ClientCallback(action=ClientAction.OPEN, client_id=deal.client_id)
    )
    note = button(t("deal.button.note"), _deal(DealAction.NOTE, deal.id))
    task = button(t("task.new.button_task"), NewTaskCallback(deal_id=deal.id))
    history_ = button(t("deal.button.history"), _deal(DealAction.HISTORY, deal.id))
    if deal.status is not DealStatus.OPEN:
        return [
            [button(t("deal.button.reopen"), _deal(DealAction.REOPEN, deal.id))],
            [note, history_],
            [client],
        ]
    return [
        [button(t("deal.button.stage"), _deal(DealAction.STAGE, deal.id))],
        [
            button(t("deal.button.won"), _deal(DealAction.WON, deal.id)),
            button(t("deal.button.lost"), _deal(DealAction.LOST, deal.id)),
        ],
        [
            button(t("deal.button.amount"), _deal(DealAction.AMOUNT, deal.id)),
            button(t("deal.button.cost"), _deal(DealAction.COST, deal.id)),
        ],
        [note, task, history_],
        [
            client,
            button(
                t("ticket.button.ticket"),
                NewTicketCallback(about=TicketAbout.DEAL, record_id=deal.id),
            ),
        ],
    ]


def _moves(moves: Sequence[StageMove], t: Translator, tz: tzinfo) -> list[Text]:
    nobody = t("deal.nobody")
    return [
        Text(
            t(
                "deal.move_created" if m.from_stage is None else "deal.move",
                when=t.when(m.at, tz),
                to=clip(m.to_stage, 60),
                by=clip(m.by or nobody, 60),
                before=clip(m.from_stage or "", 60),
            )
        )
        for m in moves
    ]


def _manager_row(t: Translator) -> list[Button]:
    return [
        button(t("deal.list.mine_button"), ListCallback(view=ListView.MY_DEALS)),
        button(t("deal.list.office_button"), ListCallback(view=ListView.OFFICE_DEALS)),
        button(t("deal.list.employees_button"), ListCallback(view=ListView.DEALS_BY_EMPLOYEE)),
    ]


def _deal(action: DealAction, deal_id: int, arg: int = 0) -> DealCallback:
    return DealCallback(action=action, deal_id=deal_id, arg=arg)


def _stage_page(page: DealPage, employee_id: int, number: int) -> ListCallback:
    return ListCallback(
        view=ListView.STAGE_DEALS, stage_id=page.stage.id, employee_id=employee_id, page=number
    )


def _money(t: Translator, currency: str) -> Callable[[Decimal | None], str]:
    return lambda amount: t.money(amount, currency)
