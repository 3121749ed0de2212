"""The staff-bot bench's workload: the kinds of updates (KINDS) with their weights, built as
Telegram sends them from the bench data (bench/bot_data.py), in per-employee lanes."""

from __future__ import annotations

import itertools
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.filters.callback_data import CallbackData

from bench import bot_data
from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    DealAction,
    DealCallback,
    LeadAction,
    LeadCallback,
    ListCallback,
    ListView,
    NewDealCallback,
)

# --- the workload ----------------------------------------------------------------------------


@dataclass
class Workload:
    data: bot_data.Data
    screens: dict[int, dict[str, Any]]  # employee id → the bot's message their buttons are on
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))
    sellers: list[bot_data.Employee] = field(init=False)
    managers: list[bot_data.Employee] = field(init=False)
    admins: list[bot_data.Employee] = field(init=False)
    own: dict[int, list[bot_data.Client]] = field(init=False)
    office: dict[int, list[bot_data.Client]] = field(init=False)
    heavy_own: dict[int, list[bot_data.Client]] = field(init=False)
    heavy_all: list[bot_data.Client] = field(init=False)
    heavy_office: dict[int, list[bot_data.Client]] = field(init=False)

    def __post_init__(self) -> None:
        staff = self.data.employees
        self.sellers = [e for e in staff if e.role == "employee"]
        self.managers = [e for e in staff if e.role == "manager"]
        self.admins = [e for e in staff if e.role == "admin"]
        self.own, self.office = defaultdict(list), defaultdict(list)
        self.heavy_own, self.heavy_office = defaultdict(list), defaultdict(list)
        heavy = set(self.data.heavy)
        self.heavy_all = [self.data.clients[i - 1] for i in self.data.heavy]
        for c in self.data.clients:
            if c.owner_id is not None:
                self.own[c.owner_id].append(c)
                if c.id in heavy:
                    self.heavy_own[c.owner_id].append(c)
            if c.office_id is not None:
                self.office[c.office_id].append(c)
                if c.id in heavy:
                    self.heavy_office[c.office_id].append(c)

    # Who acts: mostly sales employees, some managers and admins (they see more).
    def someone(self, rng: random.Random) -> bot_data.Employee:
        roll = rng.random()
        if roll < 0.05 and self.admins:
            return rng.choice(self.admins)
        if roll < 0.15 and self.managers:
            return rng.choice(self.managers)
        return rng.choice(self.sellers)

    def client_for(
        self, who: bot_data.Employee, rng: random.Random, heavy: bool = False
    ) -> bot_data.Client | None:
        if who.role == "admin":
            pool = self.heavy_all if heavy else self.data.clients
        elif who.role == "manager":
            office = who.office_id or 0
            pool = (self.heavy_office[office] if heavy else None) or self.office[office]
        else:
            pool = (self.heavy_own[who.id] if heavy else None) or self.own[who.id]
        return rng.choice(pool) if pool else None

    def seller_for(self, who: bot_data.Employee, rng: random.Random) -> bot_data.Employee:
        """Whose leads and deals `who` looks at: their own, or (a manager, an admin) a seller's
        of the office or company."""
        if who.role == "employee":
            return who
        pool = [s for s in self.sellers if who.office_id in (None, s.office_id)]
        return rng.choice(pool)

    # Updates as Telegram sends them.
    def message(self, who: bot_data.Employee, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self.ids),
            "date": int(time.time()),
            "from": _user(who),
            "chat": {"id": who.telegram_id, "type": "private", "first_name": who.name.split()[0]},
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"message": message}

    def inline(self, who: bot_data.Employee, query: str) -> dict[str, Any]:
        """`@bot query` typed in any chat."""
        return {
            "inline_query": {
                "id": str(next(self.ids)),
                "from": _user(who),
                "query": query,
                "offset": "",
                "chat_type": "private",
            }
        }

    def press(self, who: bot_data.Employee, data: CallbackData) -> dict[str, Any]:
        packed = data.pack()
        assert len(packed.encode()) <= 64, packed
        return {
            "callback_query": {
                "id": str(next(self.ids)),
                "from": _user(who),
                "data": packed,
                "chat_instance": str(who.telegram_id * 31),
                "message": self.screens[who.id],
            }
        }


def _user(who: bot_data.Employee) -> dict[str, Any]:
    return {
        "id": who.telegram_id,
        "is_bot": False,
        "first_name": who.name.split()[0],
        "language_code": "ru",
    }


Step = tuple[str, dict[str, Any]]  # (kind, update without update_id)
Maker = Callable[[Workload, bot_data.Employee, random.Random], list[Step] | None]


@dataclass(frozen=True)
class Kind:
    name: str
    weight: float
    search: bool
    make: Maker
    who: str = "anyone"  # or "manager"


def _phone_formats(e164: str, rng: random.Random) -> str:
    d = e164[2:]  # ten digits after +7
    return rng.choice(
        (
            f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}",
            f"8 ({d[:3]}) {d[3:6]} {d[6:8]} {d[8:]}",
            f"7{d}",
            f"8{d}",
            f"+7({d[:3]}){d[3:6]}{d[6:]}",
        )
    )


def _on_client(
    build: Callable[[Workload, bot_data.Employee, bot_data.Client, random.Random], list[Step]],
    *,
    heavy: bool = False,
) -> Maker:
    def make(w: Workload, who: bot_data.Employee, rng: random.Random) -> list[Step] | None:
        client = w.client_for(who, rng, heavy)
        return build(w, who, client, rng) if client is not None else None

    return make


def _lead_take(w: Workload, who: bot_data.Employee, rng: random.Random) -> list[Step] | None:
    seller = w.seller_for(who, rng)
    fresh = w.data.new_leads.get(seller.id)
    if not fresh or who is not seller:  # Take is the assignee's button
        return None
    return [("lead take", w.press(who, LeadCallback(action=LeadAction.TAKE, lead_id=fresh.pop())))]


def _lead(action: LeadAction, name: str) -> Maker:
    def make(w: Workload, who: bot_data.Employee, rng: random.Random) -> list[Step] | None:
        found = w.data.leads.get(w.seller_for(who, rng).id)
        if not found:
            return None
        return [(name, w.press(who, LeadCallback(action=action, lead_id=rng.choice(found))))]

    return make


def _deal(action: DealAction, name: str) -> Maker:
    def make(w: Workload, who: bot_data.Employee, rng: random.Random) -> list[Step] | None:
        found = w.data.deals.get(w.seller_for(who, rng).id)
        if not found:
            return None
        return [(name, w.press(who, DealCallback(action=action, deal_id=rng.choice(found))))]

    return make


def _deal_stage(w: Workload, who: bot_data.Employee, rng: random.Random) -> list[Step] | None:
    found = w.data.open_deals.get(w.seller_for(who, rng).id)
    if not found:
        return None
    deal_id, next_stage = found.pop(rng.randrange(len(found)))
    data = DealCallback(action=DealAction.STAGE, deal_id=deal_id, arg=next_stage)
    return [("deal stage", w.press(who, data))]


def _list(view: ListView, name: str) -> Maker:
    return lambda w, who, rng: [(name, w.press(who, ListCallback(view=view)))]


def _find_name(
    w: Workload, who: bot_data.Employee, c: bot_data.Client, rng: random.Random
) -> list[Step]:
    text = f"/find {c.last}" if rng.random() < 0.5 else f"/find {c.last} {c.first[:3]}"
    return [("find /find name", w.message(who, text))]


def _find_phone(
    w: Workload, who: bot_data.Employee, c: bot_data.Client, rng: random.Random
) -> list[Step]:
    phone = _phone_formats(c.phone, rng)
    return [("find phone", w.message(who, f"/find {phone}" if rng.random() < 0.3 else phone))]


def _find_company(
    w: Workload, who: bot_data.Employee, c: bot_data.Client, rng: random.Random
) -> list[Step]:
    word = (c.company or c.last).split("«")[-1].split()[0].strip("»")
    return [("find company", w.message(who, f"/find {word}"))]


def _find_text(
    w: Workload, who: bot_data.Employee, c: bot_data.Client, rng: random.Random
) -> list[Step]:
    return [("find plain text", w.message(who, f"{c.first} {c.last}"))]


def _find_inline(
    w: Workload, who: bot_data.Employee, c: bot_data.Client, rng: random.Random
) -> list[Step]:
    return [("find inline", w.inline(who, rng.choice((c.last, _phone_formats(c.phone, rng)))))]


def _open(action: ClientAction, name: str, pages: int = 0) -> Callable[..., list[Step]]:
    def build(
        w: Workload, who: bot_data.Employee, c: bot_data.Client, rng: random.Random
    ) -> list[Step]:
        page = rng.randint(1, pages) if pages else 0
        return [(name, w.press(who, ClientCallback(action=action, client_id=c.id, page=page)))]

    return build


def _new_deal(
    w: Workload, who: bot_data.Employee, c: bot_data.Client, rng: random.Random
) -> list[Step]:
    """Start a new deal from the card, then /cancel the dialog it opens."""
    return [
        ("new deal", w.press(who, NewDealCallback(client_id=c.id))),
        ("/cancel", w.message(who, "/cancel")),
    ]


KINDS: tuple[Kind, ...] = (
    Kind("find /find name", 8, True, _on_client(_find_name)),
    Kind("find phone", 8, True, _on_client(_find_phone)),
    Kind("find company", 4, True, _on_client(_find_company)),
    Kind("find plain text", 5, True, _on_client(_find_text)),
    Kind("find inline", 3, True, _on_client(_find_inline)),
    Kind("client card", 18, False, _on_client(_open(ClientAction.OPEN, "client card"))),
    Kind(
        "timeline page",
        12,
        False,
        _on_client(_open(ClientAction.OPEN, "timeline page", 3), heavy=True),
    ),
    Kind("client deals", 3, False, _on_client(_open(ClientAction.DEALS, "client deals"))),
    Kind("client leads", 3, False, _on_client(_open(ClientAction.LEADS, "client leads"))),
    Kind("lead card", 5, False, _lead(LeadAction.OPEN, "lead card")),
    Kind("lead take", 3, False, _lead_take),
    Kind("my leads", 5, False, _list(ListView.MY_LEADS, "my leads")),
    Kind("my deals", 5, False, _list(ListView.MY_DEALS, "my deals")),
    Kind("office leads", 1.5, False, _list(ListView.OFFICE_LEADS, "office leads"), who="manager"),
    Kind("office deals", 1.5, False, _list(ListView.OFFICE_DEALS, "office deals"), who="manager"),
    Kind("deal card", 6, False, _deal(DealAction.OPEN, "deal card")),
    Kind("deal history", 2, False, _deal(DealAction.HISTORY, "deal history")),
    Kind("deal stage", 3, False, _deal_stage),
    Kind("new deal", 2, False, _on_client(_new_deal)),
    Kind("/help", 2, False, lambda w, who, rng: [("/help", w.message(who, "/help"))]),
)
SEARCH_KINDS = frozenset(k.name for k in KINDS if k.search)


def plan(
    w: Workload, count: int, rng: random.Random, kinds: tuple[Kind, ...] = KINDS
) -> list[tuple[int, Step]]:
    """`count` updates (employee id, step), mixed by the kinds' weights, in sending order;
    fewer when the kinds run out of what they act on (fresh leads to take, open deals)."""
    weights = [k.weight for k in kinds]
    steps: list[tuple[int, Step]] = []
    misses = 0
    while len(steps) < count and misses < 1000:
        kind = rng.choices(kinds, weights)[0]
        for _ in range(20):
            who = rng.choice(w.managers) if kind.who == "manager" else w.someone(rng)
            made = kind.make(w, who, rng)
            if made:
                steps += [(who.id, step) for step in made]
                break
        else:
            misses += 1
    return steps


def lanes(
    steps: list[tuple[int, Step]], count: int, first_id: int
) -> list[list[tuple[str, dict[str, Any]]]]:
    """Each employee's updates stay in order in one lane (a person taps one thing at a time);
    lanes run at once. Every update gets its own update_id (the product skips redeliveries)."""
    result: list[list[tuple[str, dict[str, Any]]]] = [[] for _ in range(count)]
    for n, (employee_id, (kind, body)) in enumerate(steps):
        result[employee_id % count].append((kind, {"update_id": first_id + n, **body}))
    return result
