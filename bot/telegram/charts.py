"""Charts the bot sends as pictures, drawn on the server with matplotlib (no display: Agg)."""

from __future__ import annotations

import io
from decimal import Decimal

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

matplotlib.use("Agg")  # no display, no GUI toolkit

MAX_PEOPLE = 20  # bars; more would not be readable on a phone


def plan_vs_fact(
    rows: list[tuple[str, Decimal, Decimal | None]],
    *,
    title: str,
    fact: str,
    plan: str,
    image: str = "png",
) -> bytes:
    """A PNG (or, `image="svg"`, an SVG for the admin web's report page): per person (name,
    fact, plan) a bar of the month's revenue so far beside a bar of the plan, the biggest
    first."""
    shown = sorted(rows, key=lambda r: (-(r[2] or r[1]), r[0]))[:MAX_PEOPLE]
    names = [name[:24] for name, _f, _p in shown][::-1]
    facts = [float(f) for _n, f, _p in shown][::-1]
    plans = [float(p or 0) for _n, _f, p in shown][::-1]
    height = max(2.5, 0.45 * len(shown) + 1.2)
    # A Figure of its own, not pyplot's global state: charts may be drawn in threads.
    figure = Figure(figsize=(7, height), dpi=120)
    axes = figure.subplots()
    positions = range(len(names))
    axes.barh([y + 0.2 for y in positions], plans, height=0.38, color="#c9d6e8", label=plan)
    axes.barh([y - 0.2 for y in positions], facts, height=0.38, color="#2f6db5", label=fact)
    axes.set_yticks(list(positions), names)
    axes.set_title(title)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}".replace(",", " ")))
    axes.legend(loc="lower right")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format=image)
    return out.getvalue()
