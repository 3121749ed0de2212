"""`python3 dev.py` on a first run: a .env whose generated tokens open forms and calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

import dev
from tests.processes import crm_run, environment, free_port, wait_for_line


def settings_in(folder: Path) -> dict[str, str]:
    lines = (folder / ".env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.fixture(autouse=True)
def no_tokens_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in dev.GENERATED:
        monkeypatch.delenv(name, raising=False)


def test_a_first_run_generates_forms_and_calls_tokens(tmp_path: Path) -> None:
    dev.ensure_env_file(tmp_path)
    tokens = settings_in(tmp_path)
    assert set(tokens) == {"FORMS_TOKEN", "CALLS_TOKEN"}
    assert tokens["FORMS_TOKEN"] != tokens["CALLS_TOKEN"]
    assert all(len(token) >= 20 for token in tokens.values())
    dev.ensure_env_file(tmp_path)
    assert settings_in(tmp_path) == tokens  # a second run changes nothing


def test_a_env_from_an_older_dev_py_gets_the_calls_token_it_lacks(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(dev.ENV_HEADER + "FORMS_TOKEN=kept\n", encoding="utf-8")
    dev.ensure_env_file(tmp_path)
    tokens = settings_in(tmp_path)
    assert tokens["FORMS_TOKEN"] == "kept" and len(tokens["CALLS_TOKEN"]) >= 20


def test_a_hand_written_env_is_never_touched(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FORMS_TOKEN=mine\n", encoding="utf-8")
    dev.ensure_env_file(tmp_path)
    assert (tmp_path / ".env").read_text(encoding="utf-8") == "FORMS_TOKEN=mine\n"


def test_a_token_set_in_the_environment_is_not_generated(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CALLS_TOKEN", "from-the-service-manager")
    dev.ensure_env_file(tmp_path)
    assert set(settings_in(tmp_path)) == {"FORMS_TOKEN"}


async def test_crm_run_names_the_calls_endpoint_and_the_generated_token_opens_it(tmp_path):
    dev.ensure_env_file(tmp_path)
    token = settings_in(tmp_path)["CALLS_TOKEN"]
    port = free_port()
    with crm_run(tmp_path, environment(tmp_path, HTTP_PORT=str(port))) as log:
        lines = await asyncio.to_thread(wait_for_line, log, "health:")
        base = f"http://127.0.0.1:{port}"
        assert any(f"{base}/webhooks/calls" in line and "CALLS_TOKEN" in line for line in lines)
        call = {
            "call_id": "pbx-1",
            "direction": "in",
            "from": "+79120001122",
            "to": "+78005553535",
            "status": "missed",
            "started_at": "2025-12-01T10:00:00+03:00",
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{base}/webhooks/calls", json=call, headers={"X-CRM-Token": token}
            ) as response:
                assert response.status == 200, await response.text()


def test_the_suite_runs_on_every_core_unless_the_arguments_say_otherwise() -> None:
    assert dev.parallel(["-q"]) == ["-n", "auto"]
    for chosen in (["-n", "0"], ["-n2"], ["--numprocesses=3"], ["-p", "no:xdist"]):
        assert dev.parallel(chosen) == [], chosen
