"""The CLI commands on a real store: run, runs, artifacts, lineage, models, predict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke


def run_json(cli: Invoke, *args: str) -> dict:  # type: ignore[type-arg]
    result = cli("run", "text", "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_init_creates_the_store(cli: Invoke, project: Path) -> None:
    result = cli("init")
    assert result.code == 0
    assert (project / ".assay" / "assay.db").is_file()
    assert (project / ".assay" / "artifacts").is_dir()
    assert "store ready" in result.out
    assert "you are alice, with roles: admin" in result.out  # the first user administers it


def test_run_prints_steps_run_id_and_metrics(cli: Invoke) -> None:
    result = cli("run", "text")
    assert result.code == 0, result.err
    assert "✓ fit" in result.out
    assert "succeeded" in result.out and "accuracy" in result.out
    assert "model tiny@1" in result.out
    again = cli("run", "text")
    assert "↺ fit" in again.out and "4 reused from cache" in again.out


def test_param_reruns_only_what_depends_on_it(cli: Invoke) -> None:
    run_json(cli)
    data = run_json(cli, "--param", "C=0.5")
    assert {s["step"]: s["status"] for s in data["steps"]} == {
        "load": "cached",
        "fit": "succeeded",
        "score": "succeeded",
        "register_model": "succeeded",
    }
    assert data["models"] == ["tiny@2"]


def test_config_files_in_yaml_json_and_toml(cli: Invoke, project: Path) -> None:
    (project / "c.yaml").write_text("params:\n  n: 10\n")
    (project / "c.json").write_text('{"n": 10, "C": 2}')
    (project / "c.toml").write_text("n = 10\nC = 2.0\n")
    assert run_json(cli, "--config", "c.yaml")["steps"][0]["status"] == "succeeded"
    assert run_json(cli, "--config", "c.json")["steps"][0]["status"] == "cached"
    toml = run_json(cli, "--config", "c.toml", "--param", "C=3")
    run = json.loads(cli("runs", "show", toml["run_id"], "--json").out)
    assert run["params"] == {"n": 10, "C": 3.0}


def test_no_cache_and_workers(cli: Invoke) -> None:
    run_json(cli)
    data = run_json(cli, "--no-cache", "--workers", "2")
    assert {s["status"] for s in data["steps"]} == {"succeeded"}


def test_runs_list_and_show(cli: Invoke) -> None:
    first = run_json(cli)
    listed = json.loads(cli("runs", "list", "--json").out)
    assert [r["id"] for r in listed] == [first["run_id"]]
    assert listed[0]["status"] == "succeeded" and listed[0]["user"] == "alice"
    table = cli("runs", "list")
    assert first["run_id"][:12] in table.out
    shown = json.loads(cli("runs", "show", first["run_id"][:8], "--json").out)
    assert [e["step"] for e in shown["executions"]] == ["load", "fit", "score", "register_model"]
    assert shown["executions"][1]["outputs"]["model"]
    human = cli("runs", "show", first["run_id"][:8])
    assert "register_model" in human.out and "params" in human.out


def test_artifacts_show_and_verify(cli: Invoke) -> None:
    data = run_json(cli)
    digest = data["steps"][1]["outputs"]["model"]
    shown = json.loads(cli("artifacts", "show", digest[:10], "--json", "--verify").out)
    assert shown["kind"] == "model" and shown["codec"] == "skops"
    assert shown["producer"]["step"] == "fit"
    assert {c["step"] for c in shown["consumers"]} == {"score", "register_model"}
    assert shown["models"] == ["tiny@1"] and shown["verified"] is True
    assert "made by" in cli("artifacts", "show", digest).out


def test_lineage_up_and_down(cli: Invoke) -> None:
    data = run_json(cli)
    up = json.loads(cli("lineage", "tiny@latest", "--json").out)
    steps = {n["step"] for n in up["nodes"] if n["type"] == "execution"}
    assert steps == {"load", "fit"}
    assert up["root"] == "model:tiny@1"
    frame = data["steps"][0]["outputs"]["output"]
    down = json.loads(cli("lineage", frame, "--down", "--json").out)
    down_steps = {n["step"] for n in down["nodes"] if n["type"] == "execution"}
    assert down_steps == {"fit", "score", "register_model"}
    assert "model:tiny@1" in {n["id"] for n in down["nodes"]}
    tree = cli("lineage", "tiny")
    assert "step fit" in tree.out and "step load" in tree.out


def test_models_list(cli: Invoke) -> None:
    run_json(cli)
    run_json(cli, "--param", "C=2")
    versions = json.loads(cli("models", "list", "--json").out)
    assert [(v["name"], v["version"]) for v in versions] == [("tiny", 1), ("tiny", 2)]
    assert versions[0]["info"]["metrics"]["accuracy"] == 1.0
    assert "tiny@2" in cli("models", "list").out


def test_predict_adds_prediction_and_probabilities(cli: Invoke, project: Path) -> None:
    run_json(cli)
    (project / "in.csv").write_text("id,sentence\n1,profit rose a lot\n2,loss fell hard\n")
    result = cli(
        "predict",
        "tiny@latest",
        "--input",
        "in.csv",
        "--column",
        "sentence",
        "--output",
        "out/scored.csv",
    )
    assert result.code == 0, result.err
    lines = (project / "out" / "scored.csv").read_text().splitlines()
    assert lines[0] == "id,sentence,prediction,proba_down,proba_up"
    assert lines[1].split(",")[2] == "up" and lines[2].split(",")[2] == "down"
    assert "scored 2 rows with tiny@1" in result.out


def test_metrics_logged_by_several_steps_are_told_apart(cli: Invoke, project: Path) -> None:
    (project / "twice.py").write_text(
        "from assay import log_metrics, pipeline, step\n\n"
        "@step\ndef measure(x: int) -> int:\n    log_metrics({'size': x})\n    return x\n\n"
        "@pipeline\ndef twice() -> None:\n    measure(1)\n    measure(2)\n"
    )
    data = json.loads(cli("run", "twice.py", "--json").out)
    assert data["metrics"] == {"measure.size": 1.0, "measure_2.size": 2.0}


def test_the_whole_flow_on_postgresql(
    cli: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.metadata.conftest import postgres_schema_url

    urls = postgres_schema_url()
    monkeypatch.setenv("ASSAY_DB_URL", next(urls))
    try:
        first = run_json(cli)
        again = run_json(cli, "--workers", "2")
        assert {s["status"] for s in again["steps"]} == {"cached"}
        assert first["models"] == again["models"] == ["tiny@1"]
        up = json.loads(cli("lineage", "tiny@1", "--json").out)
        assert {n["step"] for n in up["nodes"] if n["type"] == "execution"} == {"load", "fit"}
        (project / "in.csv").write_text("sentence\nprofit rose\n")
        scored = cli(
            "predict", "tiny", "--input", "in.csv", "--column", "sentence", "--output", "o.csv"
        )
        assert scored.code == 0, scored.err
        assert len(json.loads(cli("runs", "list", "--json").out)) == 2
        assert not (project / ".assay" / "assay.db").exists()  # the records went to PostgreSQL
    finally:
        monkeypatch.delenv("ASSAY_DB_URL")
        next(urls, None)  # drops the schema


def test_experiment_tags_and_note_from_the_command_line(cli: Invoke) -> None:
    first = run_json(cli, "--experiment", "tuning", "--tag", "owner=ann", "--note", "baseline")
    run_json(cli, "-e", "other", "-p", "C=2")
    listed = json.loads(cli("runs", "list", "--experiment", "tuning", "--json").out)
    assert [r["id"] for r in listed] == [first["run_id"]]
    assert listed[0]["tags"] == {"owner": "ann"}
    assert listed[0]["note"] == "baseline"
    shown = cli("runs", "show", first["run_id"])
    assert "tuning" in shown.out and "owner=ann" in shown.out
    bad = cli("run", "text", "--tag", "novalue")
    assert bad.code == 2 and "malformed --tag" in bad.err


def test_runs_can_be_filtered_and_ordered(cli: Invoke) -> None:
    for c in ("0.5", "1", "2"):
        run_json(cli, "-p", f"C={c}", "-e", "sweep")
    listed = json.loads(
        cli(
            "runs",
            "list",
            "--where",
            "params.C >= 1 and status = succeeded",
            "--order-by",
            "params.C",
            "--json",
        ).out
    )
    assert [r["params"]["C"] for r in listed] == [1.0, 2.0]
    best = json.loads(
        cli("runs", "list", "-e", "sweep", "--order-by", "-params.C", "--limit", "1", "--json").out
    )
    assert best[0]["params"]["C"] == 2.0
    bad = cli("runs", "list", "--where", "metrics.accuracy >")
    assert bad.code == 2
    assert "bad filter at character" in bad.err and "ends too early" in bad.err


def test_compare_and_export(cli: Invoke, project: Path) -> None:
    a = run_json(cli, "-p", "C=0.5")["run_id"]
    b = run_json(cli, "-p", "C=2")["run_id"]
    data = json.loads(cli("runs", "compare", a[:8], b[:8], "--json").out)
    assert data["runs"] == [a[:12], b[:12]]
    assert "params.C" in data["differing"]
    assert "params.n" not in data["differing"]
    assert data["fields"]["params.C"] == [0.5, 2.0]
    shown = cli("runs", "compare", a, b)
    assert "fields differ" in shown.out
    assert cli("runs", "compare", a).code == 2
    assert cli("runs", "export", "-O", "out/runs.csv").code == 0
    exported = (project / "out" / "runs.csv").read_text().splitlines()
    assert len(exported) == 3
    assert "params.C" in exported[0] and "metrics.accuracy" in exported[0]
    assert cli("runs", "export", "-O", "runs.parquet", "--where", "params.C > 1").code == 0
    import pandas as pd

    assert pd.read_parquet(project / "runs.parquet")["params.C"].tolist() == [2.0]
    bad = cli("runs", "export", "-O", "runs.xlsx")
    assert bad.code == 2 and "use --format csv or --format parquet" in bad.err
