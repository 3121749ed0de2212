"""Installing chatcrm: quiet, and the package carries its data: admin templates, locale texts,
Alembic's script template and every migration (Alembic is configured in code: no alembic.ini)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(
    ".venv", ".git", "var", "build", "dist", "*.egg-info", "__pycache__", ".env", "node_modules"
)
PRODUCT = ("bot", "cli", "config", "handlers", "models", "services", "webhooks", "scheduler")
# What setuptools prints when a data folder is importable but not declared (~40 lines each).
NOISE = ("is absent from the `packages` configuration", "Package would be ignored")


def build(tmp_path: Path, hook: str) -> tuple[Path, str]:
    """Run the build backend as pip does (offline, the venv's setuptools) on a copy of the
    checkout; returns the wheel and everything the backend printed."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = tmp_path / "dist"
    out.mkdir()
    code = f"from setuptools import build_meta as b; print(b.{hook}({str(out)!r}))"
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out / done.stdout.strip().splitlines()[-1], done.stdout + done.stderr


def test_the_wheel_carries_templates_locales_and_migrations_without_warnings(tmp_path):
    wheel, output = build(tmp_path, "build_wheel")
    for noise in NOISE:
        assert noise not in output
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "config/locales/ru.toml",
        "config/locales/en.toml",
        "migrations/script.py.mako",
        *(
            str(p.relative_to(ROOT))
            for p in [
                *ROOT.glob("admin_web/templates/*.html"),
                *ROOT.glob("migrations/versions/*.py"),
                # every package of the product's code (a package left out of `packages`
                # installs without error and fails at import)
                *(init for folder in PRODUCT for init in ROOT.glob(f"{folder}/**/__init__.py")),
            ]
        ),
    }
    assert len(expected) > 5 and expected <= names, sorted(expected - names)


def test_an_editable_install_is_one_path_line_and_says_nothing(tmp_path):
    wheel, output = build(tmp_path, "build_editable")
    for noise in (*NOISE, "Editable installation"):
        assert noise not in output
    [pth] = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".pth")]
    assert zipfile.ZipFile(wheel).read(pth).decode().strip() == str(tmp_path / "src")
