"""Any filtered list as a file: `/admin/{deals,clients,tasks}/export?format=csv|xlsx&…` with
the list's own filters and sort. Every row the filter matches (not just the page shown), read a
thousand at a time by key, within what the person may see; the columns and headers as the page
shows them, in the person's language; dates in the company's zone. XLSX cells keep numbers and
dates typed (openpyxl, write-only: rows are streamed into the workbook, not held as cells). CSV
is UTF-8 with a byte-order mark, and for Russian separated by ";", as Excel expects there.
Each export is audit-logged with its row count (who took which data out)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any, Literal

from aiohttp import web
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from config.i18n import Translator
from services import access, listing
from web_app import container_of

Format = Literal["csv", "xlsx"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportQuery(inputs.Input):
    format: Format = "csv"


@dataclass(frozen=True)
class Column:
    header: str  # a locale key
    value: Callable[[Any, Translator, tzinfo], Any]


def _when(moment: datetime | None, tz: tzinfo) -> datetime | None:
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


def _minutes(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


COLUMNS: dict[str, list[Column]] = {
    "lead": [
        Column("web.number", lambda r, _t, _z: r.id),
        Column("web.received", lambda r, _t, z: _when(r.created_at, z)),
        Column("web.client", lambda r, _t, _z: r.name),
        Column("web.phone", lambda r, _t, _z: r.phone or r.raw_phone),
        Column("web.source", lambda r, _t, _z: r.source),
        Column("web.utm_source", lambda r, _t, _z: r.utm_source),
        Column("web.status", lambda r, t, _z: t(f"status.{r.status.value}")),
        Column("web.assignee", lambda r, _t, _z: r.assignee),
        Column("web.response_minutes", lambda r, _t, _z: _minutes(r.first_response_seconds)),
    ],
    "deal": [
        Column("web.number", lambda r, _t, _z: r.id),
        Column("bulk.title", lambda r, _t, _z: r.title),
        Column("web.client", lambda r, _t, _z: r.client_name),
        Column("bulk.stage", lambda r, _t, _z: r.stage),
        Column("web.status", lambda r, t, _z: t(f"bulk.status_{r.status.value}")),
        Column("bulk.amount", lambda r, _t, _z: r.amount),
        Column("bulk.currency", lambda r, _t, _z: r.currency),
        Column("bulk.owner", lambda r, _t, _z: r.owner),
        Column("bulk.office", lambda r, _t, _z: r.office),
        Column("web.received", lambda r, _t, z: _when(r.created_at, z)),
    ],
    "client": [
        Column("web.number", lambda r, _t, _z: r.id),
        Column("bulk.name", lambda r, _t, _z: r.name),
        Column("bulk.company", lambda r, _t, _z: r.company),
        Column("bulk.owner", lambda r, _t, _z: r.owner),
        Column("bulk.office", lambda r, _t, _z: r.office),
        Column("bulk.opted_out", lambda r, t, _z: t("bulk.yes") if r.opted_out else ""),
        Column("web.received", lambda r, _t, z: _when(r.created_at, z)),
    ],
    "call": [
        Column("web.number", lambda r, _t, _z: r.id),
        Column("calls.started", lambda r, _t, z: _when(r.started_at, z)),
        Column("calls.direction", lambda r, t, _z: t(f"calls.direction_{r.direction.value}")),
        Column("web.status", lambda r, t, _z: t(f"calls.status_{r.status.value}")),
        Column("web.phone", lambda r, _t, _z: r.client_number),
        Column("web.client", lambda r, _t, _z: r.client),
        Column("calls.employee", lambda r, _t, _z: r.employee),
        Column("calls.talk", lambda r, _t, _z: r.talk_seconds),
    ],
    "ticket": [
        Column("web.number", lambda r, _t, _z: r.id),
        Column("web.received", lambda r, _t, z: _when(r.created_at, z)),
        Column("tickets.category", lambda r, _t, _z: r.category),
        Column("tickets.subject", lambda r, _t, _z: r.subject),
        Column("web.status", lambda r, t, _z: t(f"tickets.status_{r.status.value}")),
        Column("tickets.author", lambda r, _t, _z: r.author),
        Column("bulk.assignee", lambda r, _t, _z: r.assignee),
        Column("web.client", lambda r, _t, _z: r.client),
    ],
    "task": [
        Column("web.number", lambda r, _t, _z: r.id),
        Column("bulk.task", lambda r, _t, _z: r.title),
        Column("bulk.due", lambda r, _t, z: _when(r.due_at, z)),
        Column("bulk.assignee", lambda r, _t, _z: r.assignee),
        Column("web.client", lambda r, _t, _z: r.client),
        Column("web.status", lambda r, t, _z: t(f"bulk.task_status_{r.status.value}")),
    ],
}


def export_view(listed: Any) -> Callable[[web.Request], Any]:
    """The export of one list (admin_web.lists.Listed): its filters, sort, and the format."""

    async def view(request: web.Request) -> web.StreamResponse:
        me = request[EMPLOYEE]
        if not access.can_change_in_bulk(me):
            raise web.HTTPNotFound()
        query: Any = inputs.parse(listed.query, request.query)
        wanted = inputs.parse(ExportQuery, request.query).format
        session, shown = request[DB], listed.chosen(request, query)
        values = context(request)
        t, tz = values["t"], values["tz"]
        columns = COLUMNS[listed.kind]
        out: Csv | Xlsx = (
            Xlsx(t(f"bulk.{listed.kind}s_sheet")) if wanted == "xlsx" else Csv(t.locale)
        )
        out.add([t(c.header) for c in columns])
        now = container_of(request).company.clock.now()
        rows = listing.every_row(
            session,
            listed.page,
            shown,
            sort=query.sort,
            what=f"{listed.kind}s",
            wanted=wanted,
            filters=query.query(after=None),
            by=me,
            now=now,
        )
        async for row in rows:
            out.add([c.value(row, t, tz) for c in columns])
        name = f"{listed.kind}s-{now.astimezone(tz):%Y-%m-%d-%H%M}.{wanted}"
        content_type = XLSX_TYPE if wanted == "xlsx" else "text/csv; charset=utf-8"
        return web.Response(
            body=out.finish(),
            headers={
                "Content-Type": content_type,
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return view


class Csv:
    """UTF-8 with a byte-order mark (Excel reads it as UTF-8), ";" for Russian as Excel there
    expects; a cell that a spreadsheet would run as a formula is quoted (CSV injection)."""

    def __init__(self, locale: str) -> None:
        self._out = io.StringIO()
        self._out.write("\ufeff")
        self._comma = locale == "ru"  # decimal commas too
        delimiter = ";" if locale == "ru" else ","
        self._writer = csv.writer(self._out, delimiter=delimiter, lineterminator="\r\n")

    def add(self, row: Sequence[Any]) -> None:
        self._writer.writerow([self._text(v) for v in row])

    def _text(self, value: Any) -> str:
        if isinstance(value, Decimal | float) and self._comma:
            return str(value).replace(".", ",")
        return _text(value)

    def finish(self) -> bytes:
        return self._out.getvalue().encode("utf-8")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%d.%m.%Y %H:%M}"
    text = str(value)
    return (
        "'" + text if text[:1] in FORMULA_STARTS and not isinstance(value, int | Decimal) else text
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Xlsx:
    """A write-only workbook: rows go straight into the sheet's XML; numbers and dates stay
    typed; text is always text (never a formula), without the characters XML cannot hold."""

    def __init__(self, title: str) -> None:
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title[:31])

    def add(self, row: Sequence[Any]) -> None:
        self._sheet.append([self._cell(v) for v in row])

    def _cell(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        if not isinstance(value, str):
            return value
        cell = WriteOnlyCell(self._sheet, value="".join(ch for ch in value if _xml_safe(ch)))
        cell.data_type = "s"  # "=…" typed by a client stays their text
        return cell

    def finish(self) -> bytes:
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()


def _xml_safe(ch: str) -> bool:
    return ch >= " " or ch in "\t\n\r"
