"""`crm` as an operator uses it: real processes, real exit codes, one clear message."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from models.db import Database
from services import admins, login_throttle, web_sessions

CRM = str(Path(sys.executable).parent / "crm")


def crm(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FORMS"))}
    environment["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}"
    environment.update(env)
    return subprocess.run(
        [CRM, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
    )


def test_migrate_then_add_an_employee_with_an_invite(tmp_path: Path) -> None:
    assert crm(tmp_path, "migrate").returncode == 0
    done = crm(
        tmp_path,
        "employee",
        "add",
        "--name",
        "Анна",
        "--role",
        "employee",
        "--phone",
        "8 912 000-11-22",
        "--office",
        "Москва",
    )
    assert done.returncode == 0, done.stderr
    assert "employee id: 1" in done.stdout
    assert 'send "/start ' in done.stdout  # no bot token: the command to send instead of a link


def test_an_employee_with_a_telegram_id_needs_no_invite(tmp_path: Path) -> None:
    done = crm(
        tmp_path, "employee", "add", "--name", "Борис", "--role", "manager", "--telegram-id", "4242"
    )
    assert done.returncode == 0 and "invite" not in done.stdout
    again = crm(
        tmp_path, "employee", "add", "--name", "Вера", "--role", "employee", "--telegram-id", "4242"
    )
    assert again.returncode == 1
    assert "already belongs" in again.stderr


def test_create_admin_reads_the_password_from_stdin(tmp_path: Path) -> None:
    done = crm(tmp_path, "create-admin", "boss", stdin="correct horse battery\n")
    assert done.returncode == 0, done.stderr
    assert "admin 'boss' created" in done.stdout and "/admin/" in done.stdout
    short = crm(tmp_path, "create-admin", "boss2", "--password", "123")
    assert short.returncode == 1 and "at least 8" in short.stderr
    taken = crm(tmp_path, "create-admin", "boss", "--password", "another-password")
    assert taken.returncode == 1 and "taken" in taken.stderr


@pytest.mark.parametrize(
    "variable, value",
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("HTTP_PORT", "eighty"),
        ("DATABASE_URL", "mysql://x/y"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("DIGEST_TIME", "25:00"),
        ("LOCALE", "de"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,proxy"),
        ("TICKET_CATEGORIES", "Оплата, ,оплата"),
    ],
)
def test_a_bad_setting_stops_with_one_line_naming_the_variable(tmp_path, variable, value):
    done = crm(tmp_path, "migrate", **{variable: value})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0]


def test_an_unknown_role_is_refused_by_the_parser(tmp_path: Path) -> None:
    done = crm(tmp_path, "employee", "add", "--name", "X", "--role", "boss")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_lines_and_extensions_wire_calls_to_people(tmp_path: Path) -> None:
    done = crm(
        tmp_path,
        "employee",
        "add",
        "--name",
        "Анна",
        "--role",
        "employee",
        "--telegram-id",
        "4242",
        "--extension",
        "101",
    )
    assert done.returncode == 0, done.stderr
    line = crm(
        tmp_path,
        "line",
        "add",
        "--number",
        "8 (495) 123-45-67",
        "--name",
        "Сайт",
        "--source",
        "yandex-direct",
        "--employee-id",
        "1",
    )
    assert line.returncode == 0 and "line id: 1" in line.stdout
    again = crm(tmp_path, "line", "add", "--number", "+74951234567", "--name", "Дубль")
    assert again.returncode == 1 and "already a line" in again.stderr
    bad = crm(tmp_path, "line", "add", "--number", "12", "--name", "X")
    assert bad.returncode == 1 and "phone" in bad.stderr


def test_a_work_schedule_is_set_from_the_command_line(tmp_path: Path) -> None:
    crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee", "--telegram-id", "7")

    def schedule(employee: str, days: str, start: str, end: str) -> subprocess.CompletedProcess:
        return crm(
            tmp_path, "employee", "schedule", employee, "--days", days, "--from", start, "--to", end
        )

    done = schedule("1", "mon-fri", "09:00", "18:00")
    assert done.returncode == 0, done.stderr
    assert "mon, tue, wed, thu, fri 09:00-18:00" in done.stdout
    night = schedule("1", "fri-mon", "20:00", "08:00")  # wraps the week, runs overnight
    assert night.returncode == 0 and "mon, fri, sat, sun 20:00-08:00" in night.stdout
    assert schedule("1", "funday", "09:00", "18:00").returncode == 1
    assert schedule("1", "mon", "9am", "18:00").returncode == 1
    assert schedule("9", "mon", "09:00", "18:00").returncode == 1


def _in_db(tmp_path: Path, work: Any) -> Any:
    """Run `work(session)` in one unit of work on the CLI's database (as the web would)."""

    async def run() -> Any:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}")
        try:
            async with db.unit_of_work() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_an_admin_slowed_down_by_failures_is_unlocked(tmp_path: Path) -> None:
    assert crm(tmp_path, "create-admin", "boss", "--password", "correct horse").returncode == 0
    now = datetime.now(UTC)

    async def guess_wrong(session: Any) -> int:
        for _ in range(6):
            await login_throttle.record_failure(session, login="boss", address="10.0.0.7", now=now)
        return await login_throttle.wait_left(session, login="boss", address="10.0.0.7", now=now)

    assert _in_db(tmp_path, guess_wrong) >= 8
    done = crm(tmp_path, "admin", "unlock", "boss")
    assert done.returncode == 0, done.stderr
    assert "may sign in again" in done.stdout

    async def wait(session: Any) -> int:
        return await login_throttle.wait_left(session, login="boss", address="10.0.0.7", now=now)

    assert _in_db(tmp_path, wait) == 0
    unknown = crm(tmp_path, "admin", "unlock", "nobody")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == ["crm: no one signs in as 'nobody'"]


def test_a_password_reset_ends_the_admins_web_sessions(tmp_path: Path) -> None:
    assert crm(tmp_path, "create-admin", "boss", "--password", "correct horse").returncode == 0
    now = datetime.now(UTC)

    async def sign_in(session: Any) -> str | None:
        outcome = await web_sessions.log_in(
            session, login="boss", password="correct horse", address="10.0.0.8", now=now
        )
        return outcome.token

    token = _in_db(tmp_path, sign_in)
    assert token
    short = crm(tmp_path, "admin", "reset-password", "boss", "--password", "1234567")
    assert short.returncode == 1 and "at least 8" in short.stderr
    done = crm(tmp_path, "admin", "reset-password", "boss", stdin="new horse battery\n")
    assert done.returncode == 0, done.stderr
    assert "1 web session(s) ended" in done.stdout

    async def after(session: Any) -> tuple[object, object, object]:
        old = await web_sessions.employee_for(session, token, now)
        new = await admins.check_password(session, login="boss", password="new horse battery")
        was = await admins.check_password(session, login="boss", password="correct horse")
        return old, new, was

    old_session, new_password, old_password = _in_db(tmp_path, after)
    assert old_session is None and new_password is not None and old_password is None
    unknown = crm(tmp_path, "admin", "reset-password", "nobody", "--password", "long enough")
    assert unknown.returncode == 1 and "no one signs in as 'nobody'" in unknown.stderr


def test_a_port_in_use_stops_crm_run_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = crm(tmp_path, "run", HTTP_PORT=str(port))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"crm: cannot listen on 127.0.0.1:{port}: address already in use (set HTTP_PORT)"
    ]


def test_a_manager_is_given_a_web_login_an_employee_is_not(tmp_path: Path) -> None:
    assert crm(tmp_path, "migrate").returncode == 0
    crm(tmp_path, "employee", "add", "--name", "Пётр", "--role", "manager")
    crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee")
    done = crm(tmp_path, "admin", "login", "1", "petr", stdin="manager horse\n")
    assert done.returncode == 0, done.stderr
    assert "Пётр (id 1) signs in as 'petr'" in done.stdout
    refused = crm(tmp_path, "admin", "login", "2", "anna", "--password", "long enough")
    assert refused.returncode == 1 and "only admins and managers" in refused.stderr
    taken = crm(tmp_path, "admin", "login", "1", "petr", "--password", "another horse")
    assert taken.returncode == 0  # the same person again: a new password

    async def works(session: Any) -> tuple[object, object]:
        old = await admins.check_password(session, login="petr", password="manager horse")
        new = await admins.check_password(session, login="petr", password="another horse")
        return old, new

    old, new = _in_db(tmp_path, works)
    assert old is None and new is not None
