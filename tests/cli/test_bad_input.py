"""Every user mistake gets one line naming the problem and the fix, exit 1 or 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke


def assert_clean_error(result: object, code: int, *needles: str) -> None:
    assert result.code == code, (result.out, result.err)  # type: ignore[attr-defined]
    err = result.err  # type: ignore[attr-defined]
    assert err.startswith("error: ") or err.startswith("Usage") or "Error" in err
    assert "Traceback" not in err and "Traceback" not in result.out  # type: ignore[attr-defined]
    for needle in needles:
        assert needle in err, err


def test_parameter_of_the_wrong_type(cli: Invoke) -> None:
    assert_clean_error(
        cli("run", "text", "--param", "n=lots"),
        2,
        "parameter 'n': expected int, got 'lots' (input should be a valid integer",
    )


def test_unknown_parameter(cli: Invoke) -> None:
    assert_clean_error(
        cli("run", "text", "--param", "depth=3"),
        2,
        "unknown parameter 'depth'",
        "parameters are: n, C",
    )


def test_malformed_param_flag(cli: Invoke) -> None:
    assert_clean_error(cli("run", "text", "--param", "justaname"), 2, "NAME=VALUE")


def test_bad_config_files(cli: Invoke, project: Path) -> None:
    (project / "bad.yaml").write_text("n: [unclosed\n")
    (project / "list.yaml").write_text("- 1\n- 2\n")
    assert_clean_error(cli("run", "text", "--config", "bad.yaml"), 2, "is not valid")
    assert_clean_error(cli("run", "text", "--config", "list.yaml"), 2, "must hold a mapping")
    assert_clean_error(cli("run", "text", "--config", "missing.yaml"), 2, "cannot read config")


def test_unknown_pipeline_paths(cli: Invoke, project: Path) -> None:
    assert_clean_error(cli("run", "nowhere.py"), 2, "no such file")
    (project / "empty").mkdir()
    assert_clean_error(cli("run", "empty"), 2, "no pipeline.py in folder")
    (project / "plain.py").write_text("x = 1\n")
    assert_clean_error(cli("run", "plain.py"), 2, "no @pipeline function")
    assert_clean_error(cli("run", "no_such_module:thing"), 2, "cannot find pipeline")
    (project / "broken.py").write_text("def (:\n")
    assert_clean_error(cli("run", "broken.py"), 2, "syntax error", "line 1")


def test_step_without_type_hints(cli: Invoke, project: Path) -> None:
    (project / "untyped.py").write_text(
        "from assay import pipeline, step\n\n@step\ndef s(x):\n    return x\n"
    )
    assert_clean_error(
        cli("run", "untyped.py"), 2, "missing type hint for argument 'x'", "annotate it"
    )


def test_failing_step_is_one_line_and_recorded(cli: Invoke, project: Path) -> None:
    (project / "fails.py").write_text(
        "from assay import pipeline, step\n\n@step\ndef s() -> int:\n"
        "    raise KeyError('column')\n\n@pipeline\ndef p() -> None:\n    s()\n"
    )
    result = cli("run", "fails.py")
    assert_clean_error(result, 1, "step 's' failed: KeyError: 'column'", "assay runs show")
    runs = json.loads(cli("runs", "list", "--json").out)
    assert runs[0]["status"] == "failed"
    shown = cli("runs", "show", runs[0]["id"])
    assert "error: step 's' failed: KeyError: 'column'" in shown.out
    assert "Traceback" not in shown.out  # one line; the traceback when asked for
    assert f"assay runs show {runs[0]['id'][:12]} --traceback" in shown.out
    full = cli("runs", "show", runs[0]["id"], "--traceback")
    assert "Traceback" in full.out and "KeyError" in full.out
    assert "Traceback" in json.loads(cli("runs", "show", runs[0]["id"], "--json").out)["traceback"]


def test_unknown_records(cli: Invoke) -> None:
    cli("run", "text")
    assert_clean_error(cli("runs", "show", "ffffffff"), 1, "no run with id 'ffffffff'")
    assert_clean_error(cli("artifacts", "show", "0000000000"), 1, "no artifact with id")
    assert_clean_error(cli("lineage", "nosuch@1"), 1, "unknown model 'nosuch'")
    assert_clean_error(cli("lineage", "tiny@9"), 1, "has no version 9", "tiny@1")
    assert_clean_error(cli("lineage", "abcdef"), 1, "neither an artifact digest nor a model")
    assert_clean_error(cli("lineage", "tiny@two"), 1, "has no alias 'two'")
    assert_clean_error(cli("lineage", "tiny@Two!"), 1, "malformed model reference")


@pytest.mark.parametrize(
    ("csv", "args", "needle"),
    [
        (None, ("tiny@latest",), "input file not found"),
        ("a,b\n1,2\n", ("tiny@latest",), "has no column 'sentence'"),
        ("sentence\nfine\n\n", ("tiny@latest",), None),
        ("sentence\nok\n", ("other@latest",), "unknown model 'other'"),
        ("sentence\nok\n", ("tiny@5",), "has no version 5"),
    ],
)
def test_predict_bad_input(
    cli: Invoke, project: Path, csv: str | None, args: tuple[str, ...], needle: str | None
) -> None:
    cli("run", "text")
    if csv is not None:
        (project / "in.csv").write_text(csv)
    result = cli("predict", *args, "--input", "in.csv", "--column", "sentence", "--output", "o.csv")
    if needle is None:
        assert result.code == 0, result.err  # a trailing blank line is not a row
    else:
        assert_clean_error(result, 1, needle)
        assert not (project / "o.csv").exists()


def test_predict_with_empty_values(cli: Invoke, project: Path) -> None:
    cli("run", "text")
    (project / "in.csv").write_text("id,sentence\n1,ok\n2,\n")
    assert_clean_error(
        cli("predict", "tiny", "--input", "in.csv", "--column", "sentence", "--output", "o.csv"),
        1,
        "empty values (CSV lines 3)",
    )


def test_corrupted_artifact_is_reported_and_the_store_stays_usable(
    cli: Invoke, project: Path
) -> None:
    data = json.loads(cli("run", "text", "--json").out)
    digest = data["steps"][1]["outputs"]["model"]
    blob = project / ".assay" / "artifacts" / "sha256" / digest[:2] / digest
    blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")
    assert_clean_error(
        cli("artifacts", "show", digest, "--verify"),
        1,
        f"artifact {digest[:12]} is corrupted",
        "moved to quarantine/",
        "rerun the pipeline to recreate",
    )
    assert not blob.exists()
    assert list((project / ".assay" / "artifacts" / "quarantine").iterdir())
    (project / "in.csv").write_text("sentence\nprofit\n")
    assert_clean_error(
        cli("predict", "tiny@1", "--input", "in.csv", "--column", "sentence", "--output", "o.csv"),
        1,
        "has no bytes",
    )
    assert cli("runs", "list").code == 0
    rerun = json.loads(cli("run", "text", "--json").out)
    assert {s["step"]: s["status"] for s in rerun["steps"]}["fit"] == "succeeded"
    assert rerun["steps"][1]["outputs"]["model"] == digest  # the same bytes, made again
    assert blob.is_file()
    ok = cli("predict", "tiny@1", "--input", "in.csv", "--column", "sentence", "--output", "o.csv")
    assert ok.code == 0, ok.err


def test_usage_errors_exit_2(cli: Invoke) -> None:
    result = cli("run")
    assert result.code == 2
    assert "Missing argument" in result.err
    assert cli("frobnicate").code == 2


def test_pipeline_files_that_fail_to_import_or_trace(cli: Invoke, project: Path) -> None:
    (project / "imp.py").write_text("import no_such_module_here\n")
    assert_clean_error(
        cli("run", "imp.py"), 2, "importing", "ModuleNotFoundError", "no_such_module_here", "line 1"
    )
    (project / "body.py").write_text(
        "from assay import pipeline, step\n\n@step\ndef s() -> int:\n    return 1\n\n"
        "@pipeline\ndef p() -> None:\n    s()\n    1 / 0\n"
    )
    assert_clean_error(
        cli("run", "body.py"), 2, "raised while building its steps", "ZeroDivisionError", "line 10"
    )
    (project / "star.py").write_text(
        "from assay import pipeline, step\n\n@pipeline\ndef p(*names: str) -> None:\n    pass\n"
    )
    assert_clean_error(cli("run", "star.py"), 2, "takes *names")
    (project / "hint.py").write_text(
        "from assay import pipeline, step\n\n@step\ndef s(x: 'list[') -> int:\n    return 1\n"
    )
    assert_clean_error(cli("run", "hint.py"), 2, "cannot read the type hint")


def test_store_settings_that_cannot_work(
    cli: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "notadb.db").write_text("this is not a database\n" * 100)
    monkeypatch.setenv("ASSAY_DB_URL", f"sqlite:///{project / 'notadb.db'}")
    assert_clean_error(cli("runs", "list"), 1, "cannot open the metadata database")
    monkeypatch.setenv("ASSAY_DB_URL", "nosuchdriver://x")
    assert_clean_error(cli("runs", "list"), 1, "database URL")
    monkeypatch.delenv("ASSAY_DB_URL")
    monkeypatch.setenv("ASSAY_ARTIFACT_ROOT", "nosuchscheme://bucket/x")
    assert_clean_error(
        cli("run", "text"),
        1,
        "cannot use artifact location",
        "pip install 'assay[s3]'",
        "from a checkout: pip install -e '.[s3]'",
    )


def test_a_missing_postgresql_driver_names_the_extra(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # imports of it now fail
    monkeypatch.setenv("ASSAY_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nodriver")
    assert_clean_error(
        cli("init"),
        1,
        "cannot use database URL",
        "pip install 'assay[postgres]'",
        "from a checkout: pip install -e '.[postgres]'",
    )


@pytest.mark.parametrize(
    ("where", "clause", "why"),
    [
        ("metrics.accuracy > abc", "'metrics.accuracy > abc'", "abc is not a number"),
        (
            "params.C = 1 and metrics.accuracy = true",
            "'metrics.accuracy = true'",
            "true is not a number",
        ),
        ("metrics.accuracy >= '0.5'", "\"metrics.accuracy >= '0.5'\"", "'0.5' is not a number"),
        ("metrics.accuracy like '1%'", "\"metrics.accuracy like '1%'\"", "like compares text"),
    ],
)
def test_a_metric_compared_with_anything_but_a_number_is_an_error(
    cli: Invoke, where: str, clause: str, why: str
) -> None:
    assert cli("run", "text").code == 0
    for command in (("runs", "list"), ("runs", "export", "-O", "runs.csv")):
        result = cli(*command, "--where", where)
        assert_clean_error(result, 2, f"in {clause}, {why}, and metrics are numbers")
        assert result.out == ""  # not an empty table


def test_a_database_from_a_newer_assay_is_refused(cli: Invoke, project: Path) -> None:
    import sqlite3

    assert cli("init").code == 0
    with sqlite3.connect(project / ".assay" / "assay.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert_clean_error(cli("runs", "list"), 1, "schema revision 9999, newer", "upgrade assay")


def test_predict_with_a_model_that_cannot_read_text(cli: Invoke, project: Path) -> None:
    (project / "numeric.py").write_text(
        "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
        "from assay import pipeline, register_model, step\n\n"
        "@step\ndef fit() -> LogisticRegression:\n"
        "    return LogisticRegression().fit([[0.0], [1.0]], [0, 1])\n\n"
        "@pipeline\ndef numeric() -> None:\n    register_model(fit(), name='num')\n"
    )
    assert cli("run", "numeric.py").code == 0
    (project / "in.csv").write_text("sentence\nhello there\n")
    assert_clean_error(
        cli("predict", "num", "--input", "in.csv", "--column", "sentence", "--output", "o.csv"),
        1,
        "column 'sentence' of in.csv holds 'hello there' (CSV line 2), not a number",
        "num@1 takes 'x0' as float64, read from 'sentence'",
    )


def test_json_output_stays_strict_json_with_nan_metrics(cli: Invoke, project: Path) -> None:
    (project / "nan.py").write_text(
        "from assay import log_metrics, pipeline, step\n\n"
        "@step\ndef s() -> None:\n    log_metrics({'loss': float('nan'), 'x': 1.5})\n\n"
        "@pipeline\ndef p() -> None:\n    s()\n"
    )
    out = cli("run", "nan.py", "--json").out
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    assert data["metrics"] == {"loss": "NaN", "x": 1.5}


def test_a_pipeline_module_that_fails_to_import(
    cli: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "broken_mod.py").write_text("x = 1 / 0\n")
    monkeypatch.syspath_prepend(str(project))
    assert_clean_error(
        cli("run", "broken_mod:p"), 2, "importing broken_mod failed", "ZeroDivisionError"
    )
