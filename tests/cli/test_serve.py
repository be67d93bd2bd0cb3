"""`assay serve` as a real process: answers V1 and V2, and on SIGTERM finishes the log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import assay
from assay import Settings
from assay.governance import promote
from assay.workspace import open_workspace
from tests.textmodel import tiny


def wait_until_ready(url: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    """Poll the server's readiness until it answers 200; fail if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/v2/health/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running `assay serve` process; ``out`` and ``err`` are what it printed once it
    stopped."""

    url: str
    proc: subprocess.Popen[str]
    err: str = ""
    out: str = ""


@contextmanager
def serve_process(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> Iterator[Served]:
    """`assay serve ARGS` on a free port, ready; stopped with SIGTERM when the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "serve", *args, "--port", str(port)],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}", proc)
    try:
        wait_until_ready(served.url, proc)
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        served.out, served.err = proc.communicate(timeout=60)


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_then_stops_cleanly_on_sigterm(tmp_path: Path, workers: int) -> None:
    settings = Settings.for_project(tmp_path, user="alice")
    ws = open_workspace(settings)
    assay.run(tiny, workspace=ws)
    promote(ws, "tiny@1", "live")
    ws.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "alice"})
    with serve_process(["tiny@live", "--workers", str(workers)], env) as served:
        url = served.url
        v1 = httpx.post(
            f"{url}/v1/models/tiny:predict", json={"instances": ["profit rose strongly"]}
        )
        assert v1.json()["predictions"][0]["label"] == "up"
        v2 = httpx.post(
            f"{url}/v2/models/tiny/infer",
            json={
                "inputs": [
                    {"name": "text", "shape": [1], "datatype": "BYTES", "data": ["loss widened"]}
                ]
            },
        )
        assert v2.json()["outputs"][0]["data"] == ["down"]
    proc, err = served.proc, served.err
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert served.out.startswith(f"serving tiny@live on {url} (Ctrl-C stops)")
    assert "reachable from this machine only" in served.out
    assert "late labels: off" in served.out
    ws = open_workspace(settings)
    try:
        assert len(ws.metadata.predictions("tiny")) == 2
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["sesam@production"], 1, "error: unknown model 'sesam'"),
        (["tiny@production"], 1, "has no alias 'production'"),
        (["tiny@1", "--max-batch", "0"], 2, "Invalid value for '--max-batch'"),
        (["tiny@1", "--max-wait-ms", "-1"], 2, "Invalid value for '--max-wait-ms'"),
        (["tiny@1", "--max-body-kb", "0"], 2, "Invalid value for '--max-body-kb'"),
        (["tiny@1", "--workers", "0"], 2, "Invalid value for '--workers'"),
        (["tiny@1", "--port", "70000"], 2, "Invalid value for '--port'"),
        (["tiny@1", "--retention-days", "-3"], 2, "Invalid value for '--retention-days'"),
        (["tiny@1", "--accept-labels"], 2, "--accept-labels needs a token"),
        (["tiny@1", "--body-timeout", "0"], 2, "Invalid value for '--body-timeout'"),
    ],
)
def test_serve_refuses_unknown_names_and_bad_values_before_printing_anything(
    tmp_path: Path, args: list[str], code: int, needle: str
) -> None:
    settings = Settings.for_project(tmp_path, user="alice")
    ws = open_workspace(settings)
    assay.run(tiny, workspace=ws)
    ws.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "alice"})
    result = subprocess.run(
        [sys.executable, "-m", "assay", "serve", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == code, result.stderr
    assert needle in result.stderr
    assert result.stdout == ""  # no "serving ... on http://..." banner before the error
    assert "Traceback" not in result.stderr


def test_models_show_says_which_form_a_version_is_served_from(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli.conftest import run_main
    from tests.registry.test_versions import dummy

    ws = open_workspace(Settings.for_project(project, user="alice"))
    assay.run(tiny, workspace=ws)
    assay.run(dummy, workspace=ws)
    ws.close()
    compiled = run_main(capsys, "models", "show", "tiny@1")
    assert compiled.code == 0, compiled.err
    assert "compiled (assay.linear-text/1): served without scikit-learn" in compiled.out
    as_is = run_main(capsys, "models", "show", "dummy@1")
    assert "the model itself: DummyClassifier is not a Pipeline" in as_is.out
