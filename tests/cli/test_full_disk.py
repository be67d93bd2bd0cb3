"""A full disk is a one-line error naming where, and loses nothing already recorded.

The disk is made full for the command's process alone with RLIMIT_FSIZE: a write that would
grow a file past the limit fails in the kernel (EFBIG), as writes on a full disk fail with
ENOSPC, and assay reports both the same way."""

from __future__ import annotations

import json
import resource
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import SIZED_PIPELINE, Result, run_subprocess


@pytest.fixture
def project(tmp_path: Path, cli_env: dict[str, str]) -> Path:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pipeline.py").write_text(SIZED_PIPELINE)
    first = run_subprocess(["run", "p/pipeline.py"], tmp_path, cli_env)
    assert first.code == 0, first.err
    return tmp_path


def _limited(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _run(args: list[str], cwd: Path, env: dict[str, str], limit: int) -> Result:
    return run_subprocess(args, cwd, env, preexec_fn=_limited(limit))


@pytest.mark.parametrize(
    "limit",
    [
        pytest.param(4096, id="at-open"),  # not even the write-ahead log can be made
        pytest.param(48 * 1024, id="mid-run"),  # the log fills up a few writes in
    ],
)
def test_a_full_disk_under_the_database_is_one_line_naming_it(
    project: Path, cli_env: dict[str, str], limit: int
) -> None:
    db = project / ".assay" / "assay.db"
    runs_before = run_subprocess(["runs", "list", "--json"], project, cli_env).out
    result = _run(["run", "p/pipeline.py", "--param", "n=4"], project, cli_env, limit)
    assert result.code == 1
    assert "Traceback" not in result.err and result.err.count("\n") == 1, result.err
    assert result.err.startswith(f"error: cannot write the metadata database {db}: ")
    assert "free space on the disk that holds it" in result.err
    # Nothing recorded before is lost or damaged; the run the disk stopped, if its start
    # was written before the disk filled, is not left looking alive or successful.
    runs_after = json.loads(run_subprocess(["runs", "list", "--json"], project, cli_env).out)
    before = {r["id"]: r for r in json.loads(runs_before)}
    assert [r for r in runs_after if r["id"] in before] == list(before.values())
    assert {r["status"] for r in runs_after if r["id"] not in before} <= {"killed", "failed"}
    assert run_subprocess(["audit", "verify"], project, cli_env).code == 0


def test_a_full_artifact_disk_names_the_artifact_location(
    project: Path, cli_env: dict[str, str]
) -> None:
    # Big enough for the database's own growth, too small for a 3 MB output.
    db = project / ".assay" / "assay.db"
    limit = max(db.stat().st_size * 2, 2 * 1024 * 1024)
    result = _run(["run", "p/pipeline.py", "--param", "size=3000000"], project, cli_env, limit)
    assert result.code == 1
    assert "Traceback" not in result.err, result.err
    line = result.err.strip().splitlines()[0]
    assert line.startswith("error: step 'blob' failed: cannot write artifact ")
    assert f"to the artifact store {project / '.assay' / 'artifacts'}: " in line
    assert "ASSAY_ARTIFACT_ROOT" in line
    assert run_subprocess(["audit", "verify"], project, cli_env).code == 0
