"""`assay reproduce`: the report, its JSON, exit codes, and a real sesame run confirmed."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from tests.cli.conftest import Invoke, run_subprocess
from tests.conftest import ROOT

# A score that moves by the number in noise.txt, when there is one, with the code unchanged.
NOISY = """
from pathlib import Path

from assay import log_metrics, pipeline, step

NOISE = Path(__file__).parent / "noise.txt"


@step
def base(n: int = 3) -> list[int]:
    return list(range(n))


@step(outputs={"metrics": "metrics"})
def score(values: list[int]) -> dict[str, float]:
    value = sum(values) / 10 + (float(NOISE.read_text()) if NOISE.exists() else 0.0)
    log_metrics({"score": value})
    return {"score": value}


@pipeline
def noisy(n: int = 3) -> None:
    score(base(n))
"""


def first_run(cli: Invoke, target: str) -> str:
    result = cli("run", target, "--json")
    assert result.code == 0, result.err
    return str(json.loads(result.out)["run_id"])


def test_reproduce_confirms_a_run_and_prints_a_table(cli: Invoke) -> None:
    run_id = first_run(cli, "text")
    result = cli("reproduce", run_id[:10])
    assert result.code == 0, result.err
    assert f"run {run_id[:12]} reproduced by run" in result.out
    # load, fit, score, the registration and the model's compiled serving form.
    assert "outputs 5 identical; metrics 1 identical" in result.out
    for step in ("load", "fit", "score", "register_model"):
        assert step in result.out
    shown = json.loads(cli("runs", "list", "--json").out)
    assert shown[0]["tags"] == {"reproduces": run_id, "reproduction": "confirmed"}


def test_reproduce_json(cli: Invoke) -> None:
    run_id = first_run(cli, "text")
    result = cli("reproduce", run_id, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["original_run"] == run_id
    assert report["verdict"] == "reproduced" and report["reproduced"] is True
    assert [(o["step"], o["status"]) for o in report["outputs"]] == [
        ("load", "identical"),
        ("fit", "identical"),
        ("score", "identical"),
        ("register_model", "identical"),
        ("register_model", "identical"),  # its compiled serving form, byte for byte
    ]
    outputs = [o["output"] for o in report["outputs"]]
    assert outputs[1:] == ["model", "metrics", "registration", "serving_form"]
    assert all(o["original"] == o["new"] for o in report["outputs"])
    assert report["metrics"][0]["key"] == "accuracy"


def test_a_difference_beyond_tolerance_exits_1(cli: Invoke, project: Path) -> None:
    (project / "noisy").mkdir()
    (project / "noisy" / "pipeline.py").write_text(textwrap.dedent(NOISY))
    run_id = first_run(cli, "noisy")
    (project / "noisy" / "noise.txt").write_text("0.01")
    result = cli("reproduce", run_id, "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["verdict"] == "not reproduced"
    metrics = next(o for o in report["outputs"] if o["step"] == "score")
    assert metrics["status"] == "different"
    assert metrics["detail"].startswith("$.score: 0.3 vs 0.31")
    assert f"error: run {run_id[:12]} was not reproduced: 2 of 3 outputs and metrics" in result.err
    # The same difference passes a wider tolerance, shown as such.
    wide = cli("reproduce", run_id, "--tolerance", "0.1")
    assert wide.code == 0, wide.err
    assert "within tolerance" in wide.out and "largest difference 0.01" in wide.out


def test_refusals_and_unknown_runs(cli: Invoke, project: Path) -> None:
    unknown = cli("reproduce", "ffffffff")
    assert unknown.code == 1
    assert unknown.err.strip() == (
        "error: no run with id 'ffffffff' (list runs with `assay runs list`)"
    )
    run_id = first_run(cli, "text")
    source = project / "text" / "pipeline.py"
    source.write_text(source.read_text().replace("C=C", "C=C * 2"))
    changed = cli("reproduce", run_id)
    assert changed.code == 1
    # `score` reads `frame.text`, and the fingerprint follows the module-level `text` too.
    assert "the code of steps 'fit', 'score' has changed" in changed.err
    assert "Traceback" not in changed.err
    assert cli("reproduce", run_id, "--tolerance", "-1").code == 2


def test_reproduce_confirms_a_sesame_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "carol", "COLUMNS": "200"})
    sesame = ROOT / "examples" / "sesame"
    run = run_subprocess(["run", str(sesame), "--json"], tmp_path, env, timeout=600)
    assert run.code == 0, run.err
    original = json.loads(run.out)
    result = run_subprocess(["reproduce", original["run_id"], "--json"], tmp_path, env, timeout=600)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["verdict"] == "reproduced"
    # Every output of every step, in the order the steps ran, compared byte for byte.
    assert [(o["step"], o["output"]) for o in report["outputs"]] == [
        (s["step"], name) for s in original["steps"] for name in s["outputs"]
    ]
    assert [o["original"] for o in report["outputs"]] == [
        digest for s in original["steps"] for digest in s["outputs"].values()
    ]
    assert {o["status"] for o in report["outputs"]} == {"identical"}
    assert {m["status"] for m in report["metrics"]} == {"identical"}
    assert "macro_f1" in {m["key"] for m in report["metrics"]}
    models = run_subprocess(["models", "list", "--json"], tmp_path, env)
    assert [m["version"] for m in json.loads(models.out)] == [1]  # the same model, not a new one
