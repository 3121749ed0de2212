"""Text compared the way people mean it: case-blind, ё as е, spaces squeezed. The same
folding in Python (`fold`) and in SQL (`folded`): SQLite's lower() knows no Cyrillic, so there
it calls `fold` itself (registered on every connection by models.db)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FOLD = "crm_fold"


def fold(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").split())


def fold_or_none(text: str | None) -> str | None:
    return None if text is None else fold(text)


class folded(FunctionElement[str]):
    """`folded(column)`: the column folded as `fold` folds, in SQL."""

    type = sa.String()
    inherit_cache = True


@compiles(folded)
def _folded(element: folded, compiler: Any, **kw: Any) -> str:
    return f"translate(lower({compiler.process(element.clauses, **kw)}), 'ё', 'е')"


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"
