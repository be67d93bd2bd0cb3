"""sesame end to end through the real command: train, cache, re-run one step, score, bad data."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import run_subprocess
from tests.conftest import ROOT

SESAME = ROOT / "examples" / "sesame"
CORPUS = SESAME / "data" / "financial_phrasebank"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "carol", "COLUMNS": "200"})
    return env


def run_json(args: list[str], tmp_path: Path, env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    result = run_subprocess(["run", str(SESAME), "--json", *args], tmp_path, env, timeout=600)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_sesame_trains_caches_reruns_one_step_and_scores(
    tmp_path: Path, env: dict[str, str]
) -> None:
    cold = run_json([], tmp_path, env)
    assert [s["step"] for s in cold["steps"]] == [
        "ingest",
        "validate",
        "split",
        "train",
        "evaluate",
        "model_card",
        "reference_sample",
        "register_model",
        "check_gates",
    ]
    assert {s["status"] for s in cold["steps"]} == {"succeeded"}
    assert cold["gates"] == {"sesame@1": {"passed": True, "failed": []}}
    # The floor: at least 0.70 macro-F1 on sentences the model never saw.
    assert cold["metrics"]["macro_f1"] >= 0.70
    assert cold["metrics"]["recall_negative"] > 0.4
    assert cold["models"] == ["sesame@1"]

    cached = run_json([], tmp_path, env)
    # The gate step always runs: the production version it compares with may have moved.
    assert {s["step"] for s in cached["steps"] if s["status"] != "cached"} == {"check_gates"}
    assert cached["metrics"]["macro_f1"] == cold["metrics"]["macro_f1"]

    changed = run_json(["--param", "alpha=0.0002"], tmp_path, env)
    assert {s["step"]: s["status"] for s in changed["steps"]} == {
        "ingest": "cached",
        "validate": "cached",
        "split": "cached",
        "train": "succeeded",
        "evaluate": "succeeded",
        "model_card": "succeeded",
        "reference_sample": "cached",  # the held-out split did not change
        "register_model": "succeeded",
        "check_gates": "succeeded",
    }
    assert changed["models"] == ["sesame@2"]

    sentences = tmp_path / "sentences.csv"
    sentences.write_text(
        "sentence\n"
        "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period.\n"
        "The company said it will cut 200 jobs as sales fell sharply.\n"
    )
    scored = run_subprocess(
        [
            "predict",
            "sesame@1",
            "--input",
            str(sentences),
            "--column",
            "sentence",
            "--output",
            str(tmp_path / "scored.csv"),
        ],
        tmp_path,
        env,
    )
    assert scored.code == 0, scored.err
    rows = list(csv.DictReader((tmp_path / "scored.csv").open()))
    assert [r["prediction"] for r in rows] == ["positive", "negative"]
    for row in rows:
        total = sum(float(row[f"proba_{c}"]) for c in ("negative", "neutral", "positive"))
        assert total == pytest.approx(1.0)

    lineage = json.loads(run_subprocess(["lineage", "sesame@1", "--json"], tmp_path, env).out)
    steps = {n["step"] for n in lineage["nodes"] if n["type"] == "execution"}
    assert steps == {"ingest", "validate", "split", "train"}
    kinds = {n["kind"] for n in lineage["nodes"] if n["type"] == "artifact"}
    assert {"folder", "dataset", "model"} <= kinds


def test_malformed_corpus_line_is_one_clear_error(tmp_path: Path, env: dict[str, str]) -> None:
    data = tmp_path / "corpus"
    shutil.copytree(CORPUS, data)
    corpus = data / "Sentences_50Agree.txt"
    lines = corpus.read_bytes().split(b"\n")
    lines.insert(4, b"no label on this line")
    corpus.write_bytes(b"\n".join(lines))
    result = run_subprocess(["run", str(SESAME), "--param", f"data={data}"], tmp_path, env)
    assert result.code == 1
    assert "Sentences_50Agree.txt line 5 is not `sentence@label`" in result.err
    assert "Traceback" not in result.err


def test_missing_corpus_folder(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_subprocess(
        ["run", str(SESAME), "--param", f"data={tmp_path / 'nope'}"], tmp_path, env
    )
    assert result.code == 1
    assert "file not found" in result.err and "--param data=PATH" in result.err


def test_shipped_corpus_has_no_malformed_line() -> None:
    """A cold run used to warn about Sentences_AllAgree.txt line 30 (a lone `1`) every time;
    the shipped copy drops that line and its NOTE.md records the change."""
    for path in sorted(CORPUS.glob("Sentences_*.txt")):
        lines = path.read_bytes().decode("iso-8859-1").split("\n")
        bad = [
            number
            for number, line in enumerate(lines, start=1)
            if line.strip()
            and line.rstrip("\r").rpartition("@")[2].strip()
            not in {"negative", "neutral", "positive"}
        ]
        assert bad == [], f"{path.name} lines {bad} are not `sentence@label`"
    assert "line 30 of the original Sentences_AllAgree.txt" in " ".join(
        (CORPUS / "NOTE.md").read_text().split()
    )
