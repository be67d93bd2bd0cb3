"""Helpers for CLI tests: run `assay` in-process or as a real subprocess on a fresh store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from assay.cli import main

TEXT_PIPELINE = """
from pathlib import Path

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from assay import log_metrics, pipeline, register_model, step


@step
def load(n: int = 40) -> pd.DataFrame:
    good = [f"profit rose {i}" for i in range(n)]
    bad = [f"loss fell {i}" for i in range(n)]
    return pd.DataFrame({"text": good + bad, "label": ["up"] * n + ["down"] * n})


@step(outputs={"model": "model"})
def fit(frame: pd.DataFrame, C: float = 1.0) -> Pipeline:
    model = Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression(C=C))])
    return model.fit(frame.text, frame.label)


@step(outputs={"metrics": "metrics"})
def score(model: Pipeline, frame: pd.DataFrame) -> dict[str, float]:
    accuracy = float((model.predict(frame.text) == frame.label).mean())
    log_metrics({"accuracy": accuracy})
    return {"accuracy": accuracy}


@pipeline
def text(n: int = 40, C: float = 1.0) -> None:
    frame = load(n)
    model = fit(frame, C=C)
    register_model(model, name="tiny", metrics=score(model, frame))
"""

# A pipeline with no model: two steps, the second writing an artifact of ``size`` bytes.
SIZED_PIPELINE = """
from assay import pipeline, step


@step
def numbers(n: int = 3) -> list[int]:
    return list(range(n))


@step
def blob(size: int = 0) -> str:
    return "x" * size


@pipeline
def sized(n: int = 3, size: int = 0) -> None:
    numbers(n)
    blob(size)
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


Invoke = Callable[..., Result]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding `text/pipeline.py`, used as the current directory."""
    folder = tmp_path / "text"
    folder.mkdir()
    (folder / "pipeline.py").write_text(textwrap.dedent(TEXT_PIPELINE))
    for key in list(os.environ):
        if key.startswith("ASSAY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSAY_USER", "alice")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(project: Path, capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Run `assay ARGS...` in this process; returns exit code and captured output."""

    def invoke(*args: str) -> Result:
        return run_main(capsys, *args)

    return invoke


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run `assay ARGS...` in this process; the exit code and what it printed."""
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    else:  # pragma: no cover - main always exits
        code = 0
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def run_subprocess(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float = 120,
    preexec_fn: Callable[[], None] | None = None,
) -> Result:
    """Run `python -m assay ARGS...` as a real process (``preexec_fn`` runs in the child
    before it starts, to set its own limits)."""
    proc = subprocess.run(
        [sys.executable, "-m", "assay", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
