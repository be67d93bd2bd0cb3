"""Signatures: recorded at registration (sealed with the version's info), inferred for
versions registered before them, and read back."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import assay
from assay import Settings
from assay.audit import verify_chain
from assay.errors import RegistryError
from assay.registry import (
    InputColumn,
    Signature,
    infer_signature,
    load_model,
    recorded_signature,
    resolve,
    version_signature,
)
from assay.workspace import Workspace
from tests.governed import toy, write_project
from tests.tabularmodel import houses, houses_model
from tests.textmodel import tiny


def test_a_text_model_records_one_text_column_and_its_classes(workspace: Workspace) -> None:
    assay.run(tiny, workspace=workspace)
    assert resolve(workspace, "tiny@1").info["signature"] == {
        "kind": "text",
        "task": "classification",
        "inputs": [{"name": "text", "type": "string"}],
        "outputs": [
            {"name": "prediction", "type": "string"},
            {"name": "proba_down", "type": "float64"},
            {"name": "proba_up", "type": "float64"},
        ],
        "classes": ["down", "up"],
        "named": True,
    }


def test_a_tabular_classifier_records_its_columns_with_the_reference_types(
    workspace: Workspace,
) -> None:
    assay.run(houses_model, workspace=workspace)
    found = recorded_signature(resolve(workspace, "houses@1"))
    assert found == Signature(
        "tabular",
        "classification",
        (InputColumn("rooms", "int64"), InputColumn("area", "float64")),
        ("cheap", "dear"),
    )
    assert found.describe() == (
        "tabular classification: rooms (int64), area (float64) -> cheap, dear"
    )


def test_an_encoded_column_is_a_category_and_a_regressor_gives_numbers(
    workspace: Workspace,
) -> None:
    assay.run(houses_model, {"kind": "ridge"}, workspace=workspace)
    data = resolve(workspace, "houses@1").info["signature"]
    assert data["task"] == "regression" and data["classes"] == []
    assert data["inputs"] == [
        {"name": "rooms", "type": "int64"},
        {"name": "area", "type": "float64"},
        {"name": "city", "type": "category"},
    ]
    assert data["outputs"] == [{"name": "prediction", "type": "float64"}]


def test_without_reference_data_types_come_from_what_reads_each_column() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = houses(60).assign(floor=lambda f: f.rooms % 3, spare=1.0)
    columns = ColumnTransformer(
        [
            ("scaled", StandardScaler(), ["area"]),
            ("codes", OneHotEncoder(), ["floor", "city"]),
            ("unused", "drop", ["spare"]),
        ]
    )
    model = make_pipeline(columns, LogisticRegression()).fit(
        frame[["area", "floor", "city", "spare"]], frame.label
    )
    found = infer_signature(model)
    assert found is not None
    assert found.inputs == (
        InputColumn("area", "float64"),
        InputColumn("floor", "int64"),
        InputColumn("city", "category"),
    )  # "spare" is dropped: not an input


def test_a_model_fitted_on_an_array_takes_columns_by_position() -> None:
    from sklearn.linear_model import Ridge

    found = infer_signature(Ridge().fit(np.zeros((4, 2)), [0.0, 1.0, 2.0, 3.0]))
    assert found is not None and not found.named
    assert found.columns == ["x0", "x1"] and found.task == "regression"
    assert found.describe() == "tabular regression: x0 (float64), x1 (float64) by position"


def test_a_model_that_cannot_predict_records_no_signature(
    workspace: Workspace, tmp_path: Path
) -> None:
    policy, card = write_project(tmp_path / "toy")
    assay.run(toy, {"policy": policy, "card": card}, workspace=workspace)
    record = resolve(workspace, "toy@1")
    assert "signature" not in record.info and recorded_signature(record) is None
    _, model = load_model(workspace, "toy@1")
    with pytest.raises(RegistryError, match=r"toy@1 \(dict\) cannot predict"):
        version_signature(record, model)


@pytest.mark.parametrize("pipeline", ["text", "tabular"])
def test_a_version_registered_before_signatures_gets_one_from_its_model(
    workspace: Workspace, pipeline: str
) -> None:
    if pipeline == "text":
        assay.run(tiny, workspace=workspace)
    else:
        assay.run(houses_model, workspace=workspace)
    record = workspace.metadata.model_versions()[0]
    older = dataclasses.replace(
        record, info={k: v for k, v in record.info.items() if k != "signature"}
    )
    _, model = load_model(workspace, f"{record.name}@1")
    inferred = version_signature(older, model)
    recorded = version_signature(record, model)
    assert inferred.kind == recorded.kind == pipeline
    assert inferred.columns == recorded.columns and inferred.classes == recorded.classes
    if pipeline == "tabular":  # without the reference data, every number is a float
        assert [c.type for c in inferred.inputs] == ["float64", "float64"]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "tabular"},
        {"kind": "table", "task": "regression", "inputs": [{"name": "a", "type": "float64"}]},
        {"kind": "tabular", "task": "regression", "inputs": [{"name": "a", "type": "decimal"}]},
        {"kind": "tabular", "task": "regression", "inputs": []},
    ],
)
def test_a_malformed_signature_is_a_registry_error(data: dict[str, Any]) -> None:
    with pytest.raises(RegistryError, match="malformed model signature"):
        Signature.from_dict(data)


def test_the_signature_round_trips_through_json() -> None:
    found = Signature(
        "tabular", "regression", (InputColumn("a", "bool"), InputColumn("b", "string")), (), False
    )
    assert Signature.from_dict(json.loads(json.dumps(found.to_dict()))) == found


def test_the_signature_is_sealed_by_the_audit_chain(
    workspace: Workspace, settings: Settings
) -> None:
    assay.run(houses_model, workspace=workspace)
    assert verify_chain(workspace).ok
    record = resolve(workspace, "houses@1")
    forged = {**record.info, "signature": {**record.info["signature"], "inputs": []}}
    db = Path(settings.db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE model_versions SET info = ?", (json.dumps(forged),))
    problems = [str(p) for p in verify_chain(workspace).problems]
    assert any("model_versions houses/1: column info" in p for p in problems), problems


def test_reference_types_win_and_missing_reference_columns_fall_back() -> None:
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"n": [1, 2, 3, 4], "flag": [True, False, True, False]})
    model = LogisticRegression().fit(frame, [0, 1, 0, 1])
    found = infer_signature(model, frame[["flag"]])
    assert found is not None
    assert found.inputs == (InputColumn("n", "float64"), InputColumn("flag", "bool"))
