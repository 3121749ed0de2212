"""Deals: opened from a lead or a client card, moved through the pipeline's stages (rows, not
code: `pipeline`), priced, won or lost (`changes`); cards and totals for the screens (`views`).
Money is typed as people type it (`services.money`)."""

from services.deals.changes import (
    LOST_REASONS,
    OTHER,
    add_note,
    create_for_client,
    create_for_lead,
    get_for,
    lose,
    move_to_stage,
    open_for_lead,
    reopen,
    set_amount,
    set_cost,
    win,
)
from services.deals.pipeline import Stage, default_pipeline_id, stages, working_stage_id
from services.deals.views import (
    DealCard,
    DealLine,
    DealPage,
    EmployeeTotal,
    StageMove,
    StageTotal,
    by_employee,
    by_stage,
    card,
    history,
    stage_deals,
)

__all__ = [
    "LOST_REASONS",
    "OTHER",
    "DealCard",
    "DealLine",
    "DealPage",
    "EmployeeTotal",
    "Stage",
    "StageMove",
    "StageTotal",
    "add_note",
    "by_employee",
    "by_stage",
    "card",
    "create_for_client",
    "create_for_lead",
    "default_pipeline_id",
    "get_for",
    "history",
    "lose",
    "move_to_stage",
    "open_for_lead",
    "reopen",
    "set_amount",
    "set_cost",
    "stage_deals",
    "stages",
    "win",
    "working_stage_id",
]
