"""The public surface is pinned, and importing assay has no side effects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import assay


def test_root_exports_are_exactly_these() -> None:
    assert sorted(assay.__all__) == [
        "AssayError",
        "Client",
        "Pipeline",
        "RunResult",
        "Settings",
        "Step",
        "log_metrics",
        "log_params",
        "pipeline",
        "register_model",
        "run",
        "set_note",
        "set_tags",
        "start_run",
        "step",
    ]
    for name in assay.__all__:
        assert getattr(assay, name) is not None


def test_importing_assay_writes_nothing_and_reads_no_settings(tmp_path: Path) -> None:
    env = {**os.environ, "ASSAY_HOME": str(tmp_path / "home"), "ASSAY_DB_URL": "bogus://"}
    code = "import assay, assay.cli, assay.testing; print('ok')"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "ok"
    assert list(tmp_path.iterdir()) == []


def test_every_package_opens_with_a_one_line_docstring() -> None:
    root = Path(assay.__file__).parent
    for init in root.rglob("__init__.py"):
        if "migrations" in init.parts:
            continue
        text = init.read_text()
        assert text.startswith('"""'), init
        first = text[3:].split("\n", 1)[0]
        assert first.endswith('"""') or first.endswith("."), init


def test_modules_stay_small() -> None:
    root = Path(assay.__file__).parent
    big = {p.name: n for p in root.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert big == {}
