"""What a server loads: the compiled form when the version has one, else the model itself."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import assay
import assay.registry.steps as registry_steps
from assay.errors import CompileError, DataError, SignatureError
from assay.registry import load_model, resolve, serving_form
from assay.serving.loaded import load_version
from assay.workspace import Workspace
from tests.tabularmodel import COLUMNS, houses, houses_model
from tests.textmodel import tiny

TEXTS = ["profit rose strongly 3", "loss widened sharply 7", "unseen words only", ""]


def test_a_registered_linear_model_is_served_from_its_compiled_form(served: Workspace) -> None:
    record = resolve(served, "tiny@1")
    assert record.info["serving"] == {
        "form": "compiled",
        "format": "assay.linear-text/1",
        "output": "serving_form",
    }
    form = serving_form(served, record)
    assert form is not None and form.codec == "arrays" and form.kind == "serving_form"
    loaded = load_version(served, record)
    assert loaded.form == "compiled" and loaded.platform == "assay-linear-text"
    _, model = load_model(served, "tiny@1")
    labels, proba = loaded.predict(TEXTS)
    np.testing.assert_allclose(proba, model.predict_proba(TEXTS), atol=1e-12)
    assert labels[:2] == ["up", "down"]


def test_the_compiled_form_loads_without_scikit_learn(served: Workspace, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from assay.registry import resolve
        from assay.serving.loaded import load_version
        from assay.settings import Settings
        from assay.workspace import open_workspace

        ws = open_workspace(Settings.for_project({str(tmp_path)!r}, user="alice"))
        loaded = load_version(ws, resolve(ws, "tiny@1"))
        print(loaded.predict(["profit rose strongly"])[0][0])
        print(sorted(m for m in ("sklearn", "scipy", "pandas", "skops") if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[:2] == ["up", "[]"]


def test_a_version_without_a_compiled_form_is_compiled_when_loaded(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(model: object) -> None:
        raise CompileError("not now")

    monkeypatch.setattr(registry_steps, "compile_model", refuse)
    assay.run(tiny, workspace=workspace)
    record = resolve(workspace, "tiny@1")
    assert record.info["serving"] == {"form": "model", "reason": "not now"}
    assert serving_form(workspace, record) is None
    monkeypatch.undo()
    loaded = load_version(workspace, record)
    assert loaded.form == "compiled"  # checked against the model as it was loaded
    assert loaded.predict(TEXTS)[0][:2] == ["up", "down"]


def test_a_model_that_cannot_compile_is_served_as_it_is(workspace: Workspace) -> None:
    from tests.registry.test_versions import dummy

    assay.run(dummy, workspace=workspace)
    loaded = load_version(workspace, resolve(workspace, "dummy@1"))
    assert loaded.form == "model" and loaded.platform == "sklearn"
    assert len(loaded.predict(["a", "b"])[1]) == 2


def test_a_damaged_compiled_form_is_refused_by_its_digest(
    served: Workspace, tmp_path: Path
) -> None:
    from assay.errors import IntegrityError

    record = resolve(served, "tiny@1")
    form = serving_form(served, record)
    assert form is not None
    [blob] = tmp_path.rglob(form.digest)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        load_version(served, record)


def test_a_text_model_is_loaded_with_its_signature(served: Workspace) -> None:
    loaded = load_version(served, resolve(served, "tiny@1"))
    assert loaded.kind == "text" and loaded.task == "classification"
    assert loaded.signature is not None and loaded.signature.columns == ["text"]
    table = loaded.validate({"text": TEXTS})
    found = loaded.predict_table(table)
    assert (found.predictions, found.probabilities) == loaded.predict(TEXTS)


def test_a_tabular_classifier_scores_a_validated_table(workspace: Workspace) -> None:
    assay.run(houses_model, {"kind": "mixed"}, workspace=workspace)
    loaded = load_version(workspace, resolve(workspace, "houses@1"))
    assert (loaded.kind, loaded.task, loaded.platform) == ("tabular", "classification", "sklearn")
    assert [c.name for c in loaded.inputs] == ["rooms", "area", "city"]
    frame = houses(20, seed=5)
    table = loaded.validate(
        {"city": frame.city.tolist(), "rooms": frame.rooms.tolist(), "area": frame.area.tolist()}
    )
    found = loaded.predict_table(table)
    _, model = load_model(workspace, "houses@1")
    np.testing.assert_allclose(found.probabilities, model.predict_proba(frame[COLUMNS["mixed"]]))
    assert found.predictions == model.predict(frame[COLUMNS["mixed"]]).tolist()
    assert found.rows()[0].keys() == {"label", "probabilities"}
    assert set(found.rows()[0]["probabilities"]) == {"cheap", "dear"}
    rows = frame[COLUMNS["mixed"]].to_dict("records")
    assert loaded.predict_table(loaded.validate_rows(rows)) == found


def test_a_regressor_is_served_with_numbers_and_no_probabilities(workspace: Workspace) -> None:
    assay.run(houses_model, {"kind": "ridge"}, workspace=workspace)
    loaded = load_version(workspace, resolve(workspace, "houses@1"))
    assert loaded.task == "regression" and loaded.classes == ()
    frame = houses(5, seed=6)
    found = loaded.predict_table(loaded.validate_rows(frame[COLUMNS["ridge"]].to_dict("records")))
    _, model = load_model(workspace, "houses@1")
    np.testing.assert_allclose(found.predictions, model.predict(frame[COLUMNS["ridge"]]))
    assert found.probabilities is None
    assert found.rows() == [{"value": v} for v in found.predictions]
    with pytest.raises(DataError, match="houses@1 is a regressor"):
        loaded.predict(["a text"])


def test_validation_names_the_column_and_its_type(workspace: Workspace) -> None:
    assay.run(houses_model, workspace=workspace)
    loaded = load_version(workspace, resolve(workspace, "houses@1"))
    with pytest.raises(SignatureError) as caught:
        loaded.validate({"rooms": [2], "area": ["big"]})
    assert caught.value.column == "area"
    assert str(caught.value).startswith(
        "column 'area' (float64) row 0 holds the string 'big', not a number"
    )
    assert "houses@1 takes rooms (int64), area (float64)" in (caught.value.hint or "")
    with pytest.raises(SignatureError, match="column 'area' is missing"):
        loaded.validate({"rooms": [2]})


def test_inputs_the_model_rejects_are_a_data_error(workspace: Workspace) -> None:
    assay.run(houses_model, workspace=workspace)
    loaded = load_version(workspace, resolve(workspace, "houses@1"))
    table = loaded.validate({"rooms": [2], "area": [None]})  # a float may be missing...
    with pytest.raises(DataError, match="houses@1 cannot score these inputs: Input X contains NaN"):
        loaded.predict_table(table)  # ... but this model cannot take it


def test_a_model_without_a_recorded_signature_is_inferred_when_loaded(
    workspace: Workspace,
) -> None:
    assay.run(houses_model, workspace=workspace)
    record = resolve(workspace, "houses@1")
    older = dataclasses.replace(
        record, info={k: v for k, v in record.info.items() if k != "signature"}
    )
    loaded = load_version(workspace, older)
    assert loaded.kind == "tabular" and loaded.signature is not None
    assert loaded.signature.columns == ["rooms", "area"]
    assert loaded.validate({"rooms": [2.0], "area": [40.0]})["rooms"].dtype == np.float64


@assay.step(outputs={"model": "model"})
def fit_text_regressor() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    texts = [f"profit rose {i}" for i in range(10)] + [f"loss fell {i}" for i in range(10)]
    return make_pipeline(TfidfVectorizer(), Ridge()).fit(texts, [1.0] * 10 + [-1.0] * 10)


@assay.pipeline
def text_regressor() -> None:
    assay.register_model(fit_text_regressor(), name="mood")


def test_a_text_regressor_scores_its_text_column(workspace: Workspace) -> None:
    assay.run(text_regressor, workspace=workspace)
    loaded = load_version(workspace, resolve(workspace, "mood@1"))
    assert (loaded.kind, loaded.task) == ("text", "regression")
    found = loaded.predict_table(loaded.validate({"text": ["profit rose", "loss fell"]}))
    assert found.probabilities is None
    assert found.predictions[0] > 0 > found.predictions[1]


def test_a_checked_table_is_logged_as_rows_of_plain_values_with_null_for_missing() -> None:
    from assay.serving.loaded import Table

    first = Table({"rooms": np.array([2, 3]), "area": np.array([41.5, np.nan])})
    second = Table({"rooms": np.array([4]), "area": np.array([60.0])})
    both = Table.stacked([first, second])
    assert len(both) == 3 and both["rooms"].tolist() == [2, 3, 4]
    rows = both.logged()
    assert rows == [
        {"rooms": 2, "area": 41.5},
        {"rooms": 3, "area": None},
        {"rooms": 4, "area": 60.0},
    ]
    assert all(type(row["rooms"]) is int for row in rows)  # NumPy's ints are not JSON's


def test_a_linear_model_of_numeric_columns_is_served_compiled_with_its_own_answers(
    workspace: Workspace,
) -> None:
    from tests.tabularmodel import houses

    assay.run(houses_model, workspace=workspace)  # plain: a scaler and a logistic regression
    record = resolve(workspace, "houses@1")
    loaded = load_version(workspace, record)
    assert loaded.form == "compiled" and loaded.platform == "assay-linear"
    frame = houses(20, seed=5)[["rooms", "area"]]
    original = workspace.artifacts.get(record.digest, record.codec)
    answers = loaded.predict_table(loaded.validate({c: frame[c].tolist() for c in frame}))
    assert answers.predictions == original.predict(frame).tolist()
    np.testing.assert_allclose(answers.probabilities, original.predict_proba(frame), rtol=1e-9)
