"""The import part of bench/admin.py: a 50,000-row XLSX through services.imports, each step as
the web runs it (read and keep, dry run, apply in batches, undo), on the bench's database."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import Container  # noqa: E402
from bench import sa_url  # noqa: E402
from config.settings import Settings  # noqa: E402
from models import ClientImport, Employee  # noqa: E402
from services import imports  # noqa: E402
from services.actors import Actor  # noqa: E402


def xlsx_of(rows: int, known: int) -> bytes:
    """A client list as people keep it: name, phone, e-mail, company; the first `known`
    phones are clients' already on record (the seed gives them), one row in 50 is broken."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Клиенты")
    sheet.append(["ФИО", "Телефон", "Почта", "Компания"])
    for i in range(rows):
        phone = f"8 (912) {i // 10000:03d}-{i % 10000 // 100:02d}-{i % 100:02d}"
        if i % 50 == 49:
            phone = "12-34"  # not a phone
        sheet.append([f"Клиент импорта {i}", phone, f"c{i}@example.ru", f"ООО Фирма {i % 700}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def import_bench(url: str, rows: int) -> None:
    """A 50,000-row XLSX through services.imports, each step as the web runs it."""
    settings = Settings(_env_file=None, database_url=sa_url(url))  # type: ignore[call-arg]
    container = Container.build(settings)
    company = container.company
    known = min(5000, rows // 10)
    conn = await asyncpg.connect(url)
    try:  # the first `known` phones of the file belong to seeded clients
        await conn.execute(
            "insert into channel_identities (client_id, channel, address, created_at, updated_at)"
            " select g, 'phone', '+7912' || lpad((g - 1)::text, 7, '0'), now(), now()"
            " from generate_series(1, $1) g on conflict do nothing",
            known,
        )
    finally:
        await conn.close()
    data = xlsx_of(rows, known)
    try:
        async with container.db.unit_of_work() as s:
            admin = await s.scalar(sa.select(Employee).where(Employee.login == "bench"))
            assert admin is not None
            by = Actor.of(admin)
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            import_id = await imports.upload(s, data, "bench.xlsx", by=by, now=company.clock.now())
        uploaded = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            found = await s.get(ClientImport, import_id)
            assert found is not None
            counts = await imports.preview(
                s,
                import_id,
                mapping=found.mapping,
                matches="update",
                owner_id=None,
                by=by,
                company=company,
            )
        checked = time.perf_counter() - started
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            await imports.start(s, import_id, by=by, now=company.clock.now())
        await imports.run(container.db, import_id, company)
        applied = time.perf_counter() - started
        async with container.db.unit_of_work() as s:
            done = (await s.get(ClientImport, import_id)).counts  # type: ignore[union-attr]
        started = time.perf_counter()
        async with container.db.unit_of_work() as s:
            undone = await imports.undo(s, import_id, by=by, now=company.clock.now())
        undo_took = time.perf_counter() - started
    finally:
        await container.close()
    print(
        f"\nimport of a {rows}-row XLSX ({len(data) / 2**20:.1f} MB): read and kept"
        f" {uploaded:.1f} s; dry run {checked:.1f} s {dict(sorted(counts.items()))};"
        f" applied {applied:.1f} s {dict(sorted(done.items()))}; undone {undo_took:.1f} s"
        f" ({undone.removed} removed, {undone.restored} restored)"
    )
