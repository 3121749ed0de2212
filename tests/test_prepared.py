"""models.prepared: a hot statement run on the driver's prepared statement reads and writes
exactly what SQLAlchemy would, in the unit of work's own transaction, and a dropped
connection fails it as SQLAlchemy fails (the next unit of work recovers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from models import Channel, OutboxLane, OutboxMessage, OutboxStatus
from models.db import Database
from models.prepared import Prepared
from services import outbox
from tests.conftest import PG_TEST_DB, _pg_admin

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
o = OutboxMessage.__table__
READ = Prepared(
    sa.select(o.c.id, o.c.channel, o.c.lane, o.c.payload, o.c.created_at, o.c.status)
    .where(o.c.recipient == sa.bindparam("to"))
    .order_by(o.c.id)
)


async def _write(db: Database, to: str, text: str) -> int | None:
    async with db.unit_of_work() as s:
        return await outbox.enqueue(
            s,
            now=NOW,
            channel=Channel.TELEGRAM,
            recipient=to,
            kind="screen",
            payload={"text": text, "keyboard": [[{"text": "‹", "callback_data": "c:1"}]]},
            lane=OutboxLane.BULK,
        )


async def test_a_written_message_reads_back_as_sqlalchemy_reads_it(db: Database) -> None:
    text = 'Иван <b>&</b> 🚀 "quoted"'
    row_id = await _write(db, "42", text)
    async with db.unit_of_work() as s:
        written = await s.get(OutboxMessage, row_id)
        assert written is not None
        assert written.payload["text"] == text and written.lane is OutboxLane.BULK
        assert written.created_at == NOW and written.status is OutboxStatus.PENDING
        fast = await READ.all(s, {"to": "42"})
        slow = (await s.execute(READ.statement, {"to": "42"})).all()
    assert [tuple(r) for r in fast] == [tuple(r) for r in slow]
    [row] = fast
    assert (row.id, row.channel, row.lane, row.payload["text"]) == (
        row_id,
        Channel.TELEGRAM,
        OutboxLane.BULK,
        text,
    )
    assert row.created_at == NOW


async def test_it_runs_in_the_unit_of_works_own_transaction(db: Database) -> None:
    """It sees what the unit of work wrote and has not committed, before and after a commit
    in the same session, and what it writes goes when the unit of work fails."""
    async with db.unit_of_work() as s:
        for round_ in (1, 2):
            s.add(_message("7", f"round {round_}"))
            await s.flush()
            seen = await READ.all(s, {"to": "7"})
            assert [r.payload["text"] for r in seen][-1] == f"round {round_}"
            await s.commit()
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as s:
            await outbox.enqueue(
                s, now=NOW, channel=Channel.TELEGRAM, recipient="7", kind="screen", payload={}
            )
            assert len(await READ.all(s, {"to": "7"})) == 3
            raise RuntimeError("the handler failed")
    async with db.unit_of_work() as s:
        assert len(await READ.all(s, {"to": "7"})) == 2


def _message(to: str, text: str) -> OutboxMessage:
    return OutboxMessage(
        channel=Channel.TELEGRAM,
        recipient=to,
        kind="screen",
        payload={"text": text},
        next_attempt_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_a_dropped_connection_fails_as_sqlalchemy_fails_and_the_next_one_works(
    postgresql_url: str,
) -> None:
    db = Database(postgresql_url)
    try:
        await _write(db, "9", "before")
        with pytest.raises(sa.exc.DBAPIError):
            async with db.unit_of_work() as s:
                assert len(await READ.all(s, {"to": "9"})) >= 1
                await _pg_admin(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{PG_TEST_DB}' AND pid <> pg_backend_pid()"
                )
                await READ.all(s, {"to": "9"})
        await _write(db, "9", "after")  # recovered: no restart
        async with db.unit_of_work() as s:
            texts = [r.payload["text"] for r in await READ.all(s, {"to": "9"})]
        assert texts[-2:] == ["before", "after"]
    finally:
        await db.dispose()


def test_an_in_list_is_refused_when_compiled() -> None:
    from sqlalchemy.dialects import postgresql

    from models.prepared import _Compiled

    stmt = sa.select(o.c.id).where(o.c.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(TypeError, match="no IN lists"):
        _Compiled(stmt, postgresql.asyncpg.dialect())


async def test_the_prepared_bench_runs(
    postgresql_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """bench/prepared.py (the README's per-statement figures) never rots."""
    from bench import prepared

    await prepared.main(runs=50)
    out = capsys.readouterr().out
    for label in ("bare asyncpg", "session.execute", "Prepared"):
        assert label in out and "µs" in out


async def test_a_statement_without_rows_runs_on_both_backends(db: Database) -> None:
    """An audit entry (an INSERT returning nothing) is written, on SQLite as on PostgreSQL."""
    from models import AuditEntry
    from services import audit

    async with db.unit_of_work() as s:
        await audit.log(s, action="client.note", entity_type="client", entity_id=5, at=NOW, n=1)
    async with db.unit_of_work() as s:
        [entry] = (await s.execute(sa.select(AuditEntry))).scalars().all()
    assert (entry.action, entry.entity_id, entry.data, entry.at) == (
        "client.note",
        5,
        {"n": 1},
        NOW,
    )
