"""`crm task add`: a task for an employee with the due time in free text, as in the bot. It
prints the task's id and the moment understood in the company's zone; a time it cannot read,
that has passed, or that can mean two moments exits non-zero with one line saying so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.test_cli_people import crm  # noqa: F401  (the fixture)

MSK = ZoneInfo("Europe/Moscow")


def test_a_task_is_added_with_a_free_text_due_time(crm, tmp_path):  # noqa: F811
    added = crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee")
    assert added.returncode == 0, added.stderr
    before = datetime.now(UTC)
    done = crm(
        tmp_path,
        "task",
        "add",
        "--employee",
        "1",
        "--title",
        "Позвонить",
        "--due",
        "через 2 часа",
    )
    assert done.returncode == 0, done.stderr
    expected = [(before + timedelta(hours=2, minutes=m)).astimezone(MSK) for m in (0, 1)]
    assert any(
        done.stdout.strip()
        == f"task 1 for Анна (employee 1): due {e:%a %d.%m.%Y %H:%M} Europe/Moscow"
        for e in expected
    ), done.stdout
    listed = crm(tmp_path, "job", "run", "fire_reminders")
    assert "0 reminders fired" in listed.stdout  # due in two hours, not now


def test_a_time_that_cannot_be_a_due_time_exits_with_one_line(crm, tmp_path):  # noqa: F811
    crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee")
    for due, says in (
        ("абракадабра", "cannot read the time 'абракадабра'"),
        ("31.11 10:00", "there is no such date or time"),
        ("вчера в 10", "has passed"),
    ):
        done = crm(tmp_path, "task", "add", "--employee", "1", "--title", "x", "--due", due)
        assert done.returncode == 1 and done.stdout == ""
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("crm: ") and says in line, line


def test_a_client_phone_links_the_task_or_is_refused(crm, tmp_path):  # noqa: F811
    crm(tmp_path, "employee", "add", "--name", "Анна", "--role", "employee")
    done = crm(
        tmp_path,
        "task",
        "add",
        "--employee",
        "1",
        "--title",
        "x",
        "--due",
        "через час",
        "--client-phone",
        "+7 912 000-11-22",
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "crm: no client has the phone +7 912 000-11-22"
