"""`crm employee …`, `crm lead assign`, `crm job …`: run in-process (`cli.main`) for speed,
with the exit codes and messages an operator sees; tests/test_cli.py runs the real console
script."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

import cli


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    for name in ("TELEGRAM_BOT_TOKEN", "FORMS_TOKEN", "REDIS_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}")
    monkeypatch.chdir(tmp_path)

    def run(_tmp_path: Path, *args: str) -> Done:
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse refusing the arguments
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


def test_a_real_week_several_shifts_a_24_hour_one_shown_and_cleared(crm, tmp_path: Path) -> None:
    crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee", "--telegram-id", "7")

    def schedule(*args: str) -> Done:
        return crm(tmp_path, "employee", "schedule", "1", *args)

    week = schedule("--days", "mon-fri", "--from", "9:00", "--to", "18:00")  # 9:00 as typed
    assert week.returncode == 0, week.stderr
    assert "mon, tue, wed, thu, fri 09:00-18:00" in week.stdout
    saturday = schedule("--days", "sat", "--from", "10:00", "--to", "14:00", "--add")
    assert saturday.returncode == 0, saturday.stderr
    sunday = schedule("--days", "sun", "--from", "00:00", "--to", "24:00", "--add")
    assert sunday.returncode == 0, sunday.stderr
    shown = schedule("--show")
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == [
        *(f"{d} 09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")),
        "sat 10:00-14:00",
        "sun 00:00-24:00",
    ]
    twice = schedule("--days", "sat", "--from", "10:00", "--to", "12:00", "--add")
    assert twice.returncode == 1 and "already a shift sat 10:00-14:00" in twice.stderr
    assert schedule("--days", "sat", "--from", "24:00", "--to", "10:00").returncode == 1
    cleared = schedule("--clear")
    assert cleared.returncode == 0 and "no shifts" in cleared.stdout
    assert "no shifts" in schedule("--show").stdout
    assert schedule("--days", "mon").returncode == 1  # neither times nor --all-day


def test_employees_are_listed_edited_deactivated_and_activated(crm, tmp_path: Path) -> None:
    crm(
        tmp_path,
        "employee",
        "add",
        "--name",
        "Анна",
        "--role",
        "employee",
        "--telegram-id",
        "7",
        "--office",
        "Москва",
        "--extension",
        "101",
    )
    crm(tmp_path, "employee", "add", "--name", "Борис", "--role", "manager")
    crm(tmp_path, "employee", "schedule", "2", "--days", "mon", "--from", "00:00", "--to", "00:01")
    listed = crm(tmp_path, "employee", "list")
    assert listed.returncode == 0, listed.stderr
    header, anna, boris = (line.split() for line in listed.stdout.splitlines())
    assert header == ["id", "name", "role", "office", "telegram", "ext", "active", "on", "duty"]
    assert anna == ["1", "Анна", "employee", "Москва", "yes", "101", "yes", "yes"]
    assert boris == ["2", "Борис", "manager", "-", "no", "-", "yes", "no"]

    edited = crm(
        tmp_path,
        "employee",
        "edit",
        "2",
        "--name",
        "Борис К.",
        "--extension",
        "102",
        "--telegram-id",
        "8",
        "--office",
        "Казань",
    )
    assert edited.returncode == 0, edited.stderr
    assert crm(tmp_path, "employee", "edit", "2").returncode == 1  # nothing to change
    off = crm(tmp_path, "employee", "deactivate", "1")
    assert off.returncode == 0 and "deactivated" in off.stdout
    rows = [line.split() for line in crm(tmp_path, "employee", "list").stdout.splitlines()]
    assert rows[1][-2:] == ["no", "no"]  # not active, so not on duty either
    assert rows[2][:7] == ["2", "Борис", "К.", "manager", "Казань", "yes", "102"]
    on = crm(tmp_path, "employee", "activate", "1")
    assert on.returncode == 0 and "active" in on.stdout
    assert crm(tmp_path, "employee", "deactivate", "9").returncode == 1


def test_an_extension_is_digits_and_belongs_to_one_employee(crm, tmp_path: Path) -> None:
    def add(name: str, extension: str) -> Done:
        return crm(
            tmp_path,
            "employee",
            "add",
            "--name",
            name,
            "--role",
            "employee",
            "--extension",
            extension,
        )

    assert add("Анна", "101").returncode == 0
    taken = add("Борис", "101")
    assert taken.returncode == 1 and "extension 101 already belongs to Анна (id 1)" in taken.stderr
    letters = add("Вера", "abc")
    assert letters.returncode == 1 and "1-10 digits" in letters.stderr
    assert add("Глеб", "12345678901").returncode == 1
    assert add("Дина", "102").returncode == 0
    moved = crm(tmp_path, "employee", "edit", "2", "--extension", "101")
    assert moved.returncode == 1 and "already belongs" in moved.stderr


def test_jobs_are_listed_and_run_by_name(crm, tmp_path: Path) -> None:
    listed = crm(tmp_path, "job", "list")
    assert listed.returncode == 0 and "hand_out_queue" in listed.stdout
    ran = crm(tmp_path, "job", "run", "hand_out_queue")
    assert ran.returncode == 0, ran.stderr
    assert "hand_out_queue: 0 leads handed out, 0 still waiting" in ran.stdout
    unknown = crm(tmp_path, "job", "run", "digest")
    assert unknown.returncode == 1 and "hand_out_queue" in unknown.stderr


def test_a_waiting_lead_is_assigned_from_the_command_line(crm, tmp_path: Path) -> None:
    crm(tmp_path, "create-admin", "boss", "--password", "correct horse")
    crm(tmp_path, "employee", "edit", "1", "--telegram-id", "7")  # the admin has Telegram
    crm(tmp_path, "employee", "add", "--name", "Борис", "--role", "employee")  # no Telegram
    lead_id = asyncio.run(_a_lead(f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}"))
    # Nobody with Telegram is on duty and there is no manager: the lead waits.
    assert crm(tmp_path, "job", "run", "hand_out_queue").stdout.endswith("1 still waiting\n")
    no_telegram = crm(tmp_path, "lead", "assign", str(lead_id), "--employee", "2")
    assert no_telegram.returncode == 1 and "has not bound Telegram" in no_telegram.stderr
    done = crm(tmp_path, "lead", "assign", str(lead_id), "--employee", "1")
    assert done.returncode == 0, done.stderr
    assert f"lead {lead_id} is boss's (employee 1)" in done.stdout
    assert crm(tmp_path, "job", "run", "hand_out_queue").stdout.endswith("0 still waiting\n")
    assert crm(tmp_path, "lead", "assign", "99", "--employee", "1").returncode == 1


async def _a_lead(url: str) -> int:
    from models.db import Database
    from services import leads
    from services.context import Company

    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            result = await leads.register_incoming(
                session, leads.LeadIn(source="form:site", phone="+79120001122"), company=Company()
            )
    finally:
        await db.dispose()
    return result.lead_id


def test_binding_telegram_with_edit_hands_out_the_waiting_lead(crm, tmp_path: Path) -> None:
    crm(tmp_path, "employee", "add", "--name", "Вера", "--role", "employee")  # no Telegram yet
    lead_id = asyncio.run(_a_lead(f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}"))
    assert crm(tmp_path, "job", "run", "hand_out_queue").stdout.endswith("1 still waiting\n")
    assert crm(tmp_path, "employee", "edit", "1", "--telegram-id", "9").returncode == 0
    assert crm(tmp_path, "job", "run", "hand_out_queue").stdout.endswith("0 still waiting\n")
    taken = crm(tmp_path, "lead", "assign", str(lead_id), "--employee", "1")
    assert f"lead {lead_id} is Вера's" in taken.stdout  # already hers: nothing changes


def test_the_only_active_admin_can_be_neither_deactivated_nor_demoted(crm, tmp_path: Path) -> None:
    assert crm(tmp_path, "create-admin", "boss", "--password", "correct horse").returncode == 0
    for attempt in (("deactivate", "1"), ("edit", "1", "--role", "manager")):
        refused = crm(tmp_path, "employee", *attempt)
        assert refused.returncode == 1 and "only active admin" in refused.stderr
    # With a second admin, the first may go.
    assert crm(tmp_path, "employee", "add", "--name", "Вера", "--role", "admin").returncode == 0
    assert crm(tmp_path, "employee", "deactivate", "1").returncode == 0


def test_a_plan_is_set_replaced_and_listed(crm, tmp_path: Path) -> None:
    added = crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee")
    assert added.returncode == 0, added.stderr
    employee_id = "1"  # the first employee of a fresh database
    assert crm(tmp_path, "plan", "set", employee_id, "2026-12", "1000000").returncode == 0
    assert crm(tmp_path, "plan", "set", employee_id, "2026-12", "1 500 000").returncode == 0
    listed = crm(tmp_path, "plan", "list", "2026-12")
    assert listed.stdout.strip() == "Анна\t1500000.00"
    refused = crm(tmp_path, "plan", "set", employee_id, "декабрь", "1")
    assert refused.returncode != 0 and "YYYY-MM" in refused.stderr
