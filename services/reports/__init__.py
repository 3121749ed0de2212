"""Reports: numbers a manager trusts, computed in SQL for a period and a scope, in the
company's time zone; shared by the bot (`/report`), and later digests and the admin web.

- `Period` / `Preset` / `Scope` / `scope_for` (periods): whole local days, and whose numbers
  someone may see;
- `manager_report` (manager): per employee and in total;
- `sources_report` (sources): per source, UTM campaign and phone line;
- `funnel` (funnel): the period's deals through the stages, conversion and time in stage;
- `rollup`: a long period's settled months, counted once (rows: what each report counts).
"""

from services.reports import digests, lists, plans, rollup
from services.reports.digests import CHART, DIGEST
from services.reports.funnel import Funnel, StageRow, funnel
from services.reports.manager import Numbers, Person, Report, manager_report
from services.reports.periods import Period, Preset, Scope, person, scope_for
from services.reports.sources import SourceRow, sources_report

__all__ = [
    "CHART",
    "DIGEST",
    "Funnel",
    "Numbers",
    "Period",
    "Person",
    "Preset",
    "Report",
    "Scope",
    "SourceRow",
    "StageRow",
    "digests",
    "funnel",
    "lists",
    "manager_report",
    "person",
    "plans",
    "rollup",
    "scope_for",
    "sources_report",
]
