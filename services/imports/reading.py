"""Reading an uploaded client list: CSV (UTF-8 or Windows-1251, separated by ";", "," or tabs)
or XLSX (the first sheet), into a header and rows of text; and guessing which column is which
field from its header, in Russian or English ("ФИО", "Телефон", "Почта", "Компания",
"Контактное лицо", "Должность")."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from models.text import fold
from services.errors import InvalidInput

MAX_BYTES = 4 * 1024 * 1024  # the web app's body limit (webhooks.server.MAX_BODY)
MAX_ROWS = 100_000
MAX_COLUMNS = 50
MAX_CELL = 1000
MAX_UNPACKED = 100 * 1024 * 1024  # an XLSX's files, unzipped

# A "contact" column makes the rows of one company one client (the company) with each row's
# person as its contact person (services.imports.rows.group_of).
FIELDS = ("name", "phone", "email", "company", "contact", "position", "tag")
IGNORE = ""
_SYNONYMS = {
    "name": ("фио", "имя", "клиент", "name", "full name", "client"),
    "phone": ("телефон", "тел", "мобильный", "номер телефона", "phone", "mobile", "tel"),
    "email": ("почта", "email", "e mail", "эл почта", "электронная почта", "mail"),
    "company": ("компания", "организация", "фирма", "company", "organization", "organisation"),
    "contact": ("контактное лицо", "контакт", "contact person", "contact"),
    "position": ("должность", "position", "job title"),
    "tag": ("метка", "метки", "тег", "теги", "tag", "tags"),
}
_WORDS = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


def read(data: bytes, filename: str) -> Table:
    """The file's header and data rows; InvalidInput saying what is wrong with it."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("the file is too big", key="import.too_big", limit=MAX_BYTES // 2**20)
    try:
        if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
            rows = _xlsx(data)
        else:
            rows = _csv(data)
    except InvalidInput:
        raise
    except (csv.Error, ValueError, SyntaxError, KeyError, EOFError, OSError) as exc:
        # a broken quote, a sheet's XML gone wrong (ParseError is a SyntaxError), odd cells
        raise InvalidInput(f"not a readable table: {exc!r}"[:300], key="import.bad_file") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise InvalidInput("no rows under the header", key="import.empty")
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidInput("too many rows", key="import.too_many_rows", limit=MAX_ROWS)
    width = min(max(len(row) for row in rows), MAX_COLUMNS)
    table = [(row + [""] * width)[:width] for row in rows]
    headers = [h.strip() or f"#{i + 1}" for i, h in enumerate(table[0])]
    return Table(headers, table[1:])


def _xlsx(data: bytes) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:  # a few MB that unpack to GBs
            if sum(entry.file_size for entry in archive.infolist()) > MAX_UNPACKED:
                raise InvalidInput("the workbook unpacks too big", key="import.bad_file")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(f"not an XLSX file: {exc}", key="import.bad_file") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_text(v) for v in values[:MAX_COLUMNS]])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def _text(value: Any) -> str:
    """A cell as people typed it: a phone stored as a number without ".0", a date as a date."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "")[:MAX_CELL]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)[:MAX_CELL]


def _csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise InvalidInput("a binary file", key="import.bad_file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251", errors="replace")  # Excel's CSV in Russian Windows
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    rows = []
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        rows.append([cell.replace("\x00", "")[:MAX_CELL] for cell in row[:MAX_COLUMNS]])
        if len(rows) > MAX_ROWS + 1:
            break
    return rows


def guess(headers: list[str]) -> dict[str, str]:
    """Column index (as text) → field, for the headers it recognises; each field once."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        words = " ".join(_WORDS.sub(" ", fold(header)).split())
        for field, names in _SYNONYMS.items():
            if field not in taken and (words in names or words.split(" ")[0] in names):
                found[str(index)] = field
                taken.add(field)
                break
    return found
